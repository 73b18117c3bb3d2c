// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {SwapSettlement} from "../../contracts/swap/SwapSettlement.sol";
import {Asset, AssetKind, SwapOrder} from "../../contracts/swap/SwapOrderLib.sol";
import {TestERC20, TestERC721} from "./mocks/TestTokens.sol";

/// @notice Deploys a SwapSettlement with two ERC-20s and two ERC-721 collections, named actors with real keys,
///         and helpers that build, sign (real EIP-712, hashed independently of the contract), fund and fill
///         orders.
abstract contract SwapTestBase is Test {
    string internal constant NAME = "SendingNetwork SwapSettlement";
    string internal constant VERSION = "1";
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant ASSET_TYPEHASH =
        keccak256("Asset(uint8 kind,address token,uint256 amountOrId)");
    bytes32 internal constant ORDER_TYPEHASH = keccak256(
        "SwapOrder(address maker,address taker,Asset makerAsset,Asset takerAsset,uint256 expiry,uint256 nonce)"
        "Asset(uint8 kind,address token,uint256 amountOrId)"
    );

    uint8 internal constant ERC20 = uint8(AssetKind.ERC20);
    uint8 internal constant ERC721 = uint8(AssetKind.ERC721);
    uint8 internal constant ETH = uint8(AssetKind.ETH);

    SwapSettlement internal swap;
    TestERC20 internal usd;
    TestERC20 internal send;
    TestERC721 internal nft;
    TestERC721 internal art;

    address internal maker;
    uint256 internal makerKey;
    address internal taker;
    uint256 internal takerKey;
    address internal stranger = makeAddr("stranger");

    uint256 internal nextNonce;

    function setUp() public virtual {
        vm.warp(1_800_000_000);
        (maker, makerKey) = makeAddrAndKey("maker");
        (taker, takerKey) = makeAddrAndKey("taker");
        swap = new SwapSettlement();
        usd = new TestERC20("USD", "USD");
        send = new TestERC20("SEND", "SEND");
        nft = new TestERC721("License", "LIC");
        art = new TestERC721("Art", "ART");
        vm.label(address(swap), "SwapSettlement");
        vm.label(address(usd), "USD");
        vm.label(address(send), "SEND");
        vm.label(address(nft), "NFT");
        vm.label(address(art), "ART");
    }

    // ---------------------------------------------------------------- assets and orders

    function _erc20(address token, uint256 amount) internal pure returns (Asset memory) {
        return Asset(ERC20, token, amount);
    }

    function _erc721(address token, uint256 id) internal pure returns (Asset memory) {
        return Asset(ERC721, token, id);
    }

    function _eth(uint256 amount) internal pure returns (Asset memory) {
        return Asset(ETH, address(0), amount);
    }

    /// @notice An open order by `maker`, valid for a day, with a fresh nonce.
    function _order(Asset memory makerAsset, Asset memory takerAsset) internal returns (SwapOrder memory o) {
        o = SwapOrder({
            maker: maker,
            taker: address(0),
            makerAsset: makerAsset,
            takerAsset: takerAsset,
            expiry: block.timestamp + 1 days,
            nonce: nextNonce++
        });
    }

    // ---------------------------------------------------------------- hashing and signing (independent)

    function _domainSeparator(address verifyingContract, uint256 chainId) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256(bytes(NAME)), keccak256(bytes(VERSION)), chainId, verifyingContract
            )
        );
    }

    function _assetHash(Asset memory a) internal pure returns (bytes32) {
        return keccak256(abi.encode(ASSET_TYPEHASH, a.kind, a.token, a.amountOrId));
    }

    function _structHash(SwapOrder memory o) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ORDER_TYPEHASH,
                o.maker,
                o.taker,
                _assetHash(o.makerAsset),
                _assetHash(o.takerAsset),
                o.expiry,
                o.nonce
            )
        );
    }

    function _digest(SwapOrder memory o, address verifyingContract, uint256 chainId)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encodePacked("\x19\x01", _domainSeparator(verifyingContract, chainId), _structHash(o))
        );
    }

    function _digest(SwapOrder memory o) internal view returns (bytes32) {
        return _digest(o, address(swap), block.chainid);
    }

    function _signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _sign(uint256 key, SwapOrder memory o) internal view returns (bytes memory) {
        return _signDigest(key, _digest(o));
    }

    function _sign(SwapOrder memory o) internal view returns (bytes memory) {
        return _sign(makerKey, o);
    }

    // ---------------------------------------------------------------- funding and filling

    /// @notice Gives `from` the asset and approves (or deposits) it for the swap.
    function _provide(address from, Asset memory a) internal {
        if (a.kind == ERC20) {
            TestERC20(a.token).mint(from, a.amountOrId);
            vm.prank(from);
            TestERC20(a.token).approve(address(swap), type(uint256).max);
        } else if (a.kind == ERC721) {
            TestERC721(a.token).mint(from, a.amountOrId);
            vm.prank(from);
            TestERC721(a.token).setApprovalForAll(address(swap), true);
        }
    }

    /// @notice Funds both sides of `o`: the maker's leg (ETH deposited in escrow) and the taker's (ETH dealt).
    function _fundBoth(SwapOrder memory o, address taker_) internal {
        if (o.makerAsset.kind == ETH) {
            vm.deal(o.maker, o.maker.balance + o.makerAsset.amountOrId);
            vm.prank(o.maker);
            swap.deposit{value: o.makerAsset.amountOrId}();
        } else {
            _provide(o.maker, o.makerAsset);
        }
        if (o.takerAsset.kind == ETH) vm.deal(taker_, taker_.balance + o.takerAsset.amountOrId);
        else _provide(taker_, o.takerAsset);
    }

    function _value(SwapOrder memory o) internal pure returns (uint256) {
        return o.takerAsset.kind == ETH ? o.takerAsset.amountOrId : 0;
    }

    function _fill(address caller, SwapOrder memory o, bytes memory sig) internal returns (bytes32) {
        vm.prank(caller);
        return swap.fill{value: _value(o)}(o, sig);
    }

    /// @dev Gives the caller the ETH it sends if it lacks it, so the revert tested is the contract's.
    function _expectFillRevert(address caller, SwapOrder memory o, bytes memory sig, bytes memory err)
        internal
    {
        uint256 value = _value(o);
        if (caller.balance < value) vm.deal(caller, value);
        vm.expectRevert(err);
        vm.prank(caller);
        swap.fill{value: value}(o, sig);
    }

    /// @notice What `who` holds of an asset's token: ERC-20 balance, 1 if it owns the ERC-721 id, ETH balance.
    function _holding(address who, Asset memory a) internal view returns (uint256) {
        if (a.kind == ERC20) return TestERC20(a.token).balanceOf(who);
        if (a.kind == ERC721) return TestERC721(a.token).ownerOf(a.amountOrId) == who ? 1 : 0;
        return who.balance;
    }

    function _isUsed(address maker_, uint256 nonce) internal view returns (bool) {
        return !swap.isNonceUsable(maker_, nonce);
    }
}
