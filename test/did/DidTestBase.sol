// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {DidRegistry} from "../../contracts/did/DidRegistry.sol";
import {DidUniversalResolver} from "../../contracts/did/DidUniversalResolver.sol";
import {DidKeys} from "../../contracts/did/DidKeys.sol";

/// @notice Deploys the DID registry and its universal resolver the way the deploy script will
///         (`DidRegistry("send", 60, 1 days)`, `DidUniversalResolver(registry)`), with named actors whose keys sign real
///         EIP-712 consents.
abstract contract DidTestBase is Test {
    string internal constant TLD = "send";
    /// Commitment ages of a public chain (ENS's controller uses the same).
    uint256 internal constant MIN_AGE = 60;
    uint256 internal constant MAX_AGE = 1 days;
    /// namehash("addr.reverse")
    bytes32 internal constant ADDR_REVERSE_NODE =
        0x91d1777781884d03a6757a803996e38de2a42967fb37eeaca72729271025a9e2;

    DidRegistry internal registry;
    DidUniversalResolver internal resolver;

    address internal alice;
    uint256 internal alicePk;
    address internal bob;
    uint256 internal bobPk;
    address internal carol;
    uint256 internal carolPk;
    address internal dave;
    uint256 internal davePk;
    address internal stranger = makeAddr("stranger");

    function setUp() public virtual {
        vm.warp(1_800_000_000);
        (alice, alicePk) = makeAddrAndKey("alice");
        (bob, bobPk) = makeAddrAndKey("bob");
        (carol, carolPk) = makeAddrAndKey("carol");
        (dave, davePk) = makeAddrAndKey("dave");
        registry = new DidRegistry(TLD, MIN_AGE, MAX_AGE);
        resolver = new DidUniversalResolver(registry);
        vm.label(address(registry), "DidRegistry");
        vm.label(address(resolver), "DidUniversalResolver");
    }

    // ---------------------------------------------------------------- names

    /// @dev The secret `who` uses for `name` in these tests.
    function _secret(address who, string memory name) internal pure returns (bytes32) {
        return keccak256(abi.encode("secret", who, name));
    }

    /// @dev `who` commits to registering `name` (with `_secret`).
    function _commitName(address who, string memory name) internal returns (bytes32 commitment) {
        commitment = registry.registerCommitment(name, who, _secret(who, name));
        vm.prank(who);
        registry.commit(commitment);
    }

    /// @dev The full flow: commit, wait the minimum age, register.
    function _register(address who, string memory name) internal returns (uint256 did) {
        _commitName(who, name);
        vm.warp(block.timestamp + MIN_AGE);
        vm.prank(who);
        did = registry.register(name, _secret(who, name));
    }

    // ---------------------------------------------------------------- keys

    /// @dev `who` commits to adding `key` of type `t` to `did`.
    function _commitKey(address who, uint256 did, bytes32 key, DidKeys.KeyType t)
        internal
        returns (bytes32 commitment)
    {
        commitment = registry.keyCommitment(did, key, t, who);
        vm.prank(who);
        registry.commit(commitment);
    }

    /// @dev The full flow: commit, wait the minimum age, add.
    function _addKey(address who, uint256 did, bytes32 key, DidKeys.KeyType t, bytes memory metadata)
        internal
    {
        _commitKey(who, did, key, t);
        vm.warp(block.timestamp + MIN_AGE);
        vm.prank(who);
        registry.addKey(did, key, t, metadata);
    }

    /// @dev namehash("<label>.send").
    function _node(string memory label) internal view returns (bytes32) {
        return keccak256(abi.encodePacked(registry.tldNode(), keccak256(bytes(label))));
    }

    /// @dev DNS wire format of `<label>.send`.
    function _dns(string memory label) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(bytes(label).length), label, uint8(4), "send", uint8(0));
    }

    /// @dev namehash("<lower-case hex of account>.addr.reverse").
    function _reverseNode(address account) internal pure returns (bytes32) {
        bytes memory hexDigits = "0123456789abcdef";
        bytes memory label = new bytes(40);
        uint160 value = uint160(account);
        for (uint256 i = 40; i > 0; --i) {
            label[i - 1] = hexDigits[value & 0xf];
            value >>= 4;
        }
        return keccak256(abi.encodePacked(ADDR_REVERSE_NODE, keccak256(label)));
    }

    // ---------------------------------------------------------------- consents

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _linkConsent(uint256 walletPk, uint256 did, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return _sign(walletPk, registry.linkConsentDigest(did, vm.addr(walletPk), deadline));
    }

    /// @dev `owner` links the wallet of `walletPk` to `did` with a fresh consent.
    function _link(address owner, uint256 did, uint256 walletPk) internal {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _linkConsent(walletPk, did, deadline);
        vm.prank(owner);
        registry.linkWallet(did, vm.addr(walletPk), deadline, consent);
    }

    function _transferConsent(uint256 toPk, uint256 did, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return _sign(toPk, registry.transferConsentDigest(did, vm.addr(toPk), deadline));
    }

    /// @dev The EIP-712 digest of a link consent under any domain (chain, contract) and terms.
    function _linkDigestFor(
        uint256 chainId,
        address verifyingContract,
        uint256 did,
        address wallet,
        address owner,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("SendingNetwork DidRegistry"),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
        bytes32 structHash =
            keccak256(abi.encode(registry.LINK_CONSENT_TYPEHASH(), did, wallet, owner, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    // ---------------------------------------------------------------- views

    function _contains(address[] memory list, address x) internal pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == x) return true;
        }
        return false;
    }

    function _contains(uint256[] memory list, uint256 x) internal pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == x) return true;
        }
        return false;
    }
}
