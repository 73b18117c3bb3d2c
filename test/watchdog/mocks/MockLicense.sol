// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @notice Minimal stand-in for the WatchDog license: a plain OpenZeppelin ERC-721 anyone can mint and
///         burn, and void. License rewards use only `IERC721.ownerOf` and `voided`.
contract MockLicense is ERC721 {
    bool public voided;

    constructor() ERC721("WatchDog License (mock)", "WDL") {}

    function setVoided(bool v) external {
        voided = v;
    }

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }

    function burn(uint256 tokenId) external {
        _burn(tokenId);
    }
}

/// @notice A non-conforming ERC-721 whose `ownerOf` returns the zero address for unknown tokens instead of
///         reverting (the standard requires a revert); license rewards must still refuse to pay.
contract ZeroOwnerLicense {
    mapping(uint256 tokenId => address) public ownerOf;
    bool public voided;

    function set(uint256 tokenId, address owner) external {
        ownerOf[tokenId] = owner;
    }
}
