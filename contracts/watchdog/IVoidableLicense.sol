// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title IVoidableLicense
/// @notice What `LicenseRewards` reads of the WatchDog license: owners (ERC-721), and whether the licenses
///         are void (`WatchDogLicense.voided`).
interface IVoidableLicense is IERC721 {
    /// @notice True once every license is void: its sale was cancelled, or reached the presale's self-refund
    ///         time without being finalized.
    function voided() external view returns (bool);
}
