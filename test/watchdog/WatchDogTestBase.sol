// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Merkle} from "../utils/Merkle.sol";
import {WatchDogLicense} from "../../contracts/watchdog/WatchDogLicense.sol";
import {WatchDogPresale} from "../../contracts/watchdog/WatchDogPresale.sol";
import {MockStablecoin} from "./mocks/WatchDogMocks.sol";

/// @notice Deploys a license and its presale the way the deploy script must (license first, with the
///         presale's predicted address as minter), a 6-decimals stablecoin, three price tiers, an
///         allowlist tree with real proofs, and helpers to buy.
abstract contract WatchDogTestBase is Test {
    uint32 internal constant SUPPLY = 100;
    uint32 internal constant RESERVE = 30;
    uint32 internal constant WALLET_CAP = 10;
    uint32 internal constant TX_CAP = 5;
    uint64 internal constant UNLOCK = 1_900_000_000;
    uint64 internal constant MAX_UNLOCK = 1_950_000_000;
    uint40 internal constant AL_START = 1_800_001_000;
    uint40 internal constant AL_END = 1_800_002_000;
    uint40 internal constant PUB_START = 1_800_002_000;
    uint40 internal constant PUB_END = 1_800_010_000;
    /// Self-refunds from here if neither finalized nor cancelled; refunds end at REFUND_DEADLINE.
    uint40 internal constant SELF_REFUND = 1_800_100_000;
    uint40 internal constant REFUND_DEADLINE = 1_800_200_000;
    string internal constant BASE_URI = "https://licenses.sendingnetwork.example/watchdog/";

    /// Tier prices: [0, 40) 0.1 ETH / 300 mUSD, [40, 80) 0.12 ETH / 360 mUSD, [80, 100) 0.15 ETH / 450 mUSD.
    uint96 internal constant ETH0 = 0.1 ether;
    uint96 internal constant ETH1 = 0.12 ether;
    uint96 internal constant ETH2 = 0.15 ether;
    uint96 internal constant USD0 = 300e6;
    uint96 internal constant USD1 = 360e6;
    uint96 internal constant USD2 = 450e6;

    WatchDogLicense internal license;
    WatchDogPresale internal presale;
    MockStablecoin internal usd;

    address internal owner = makeAddr("owner");
    address internal treasury = makeAddr("treasury");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal mallory = makeAddr("mallory");

    /// Allowlist: account i may buy allowances[i]; leaves in that order.
    address[] internal allowlisted;
    uint256[] internal allowances;
    bytes32[] internal allowLeaves;
    bytes32 internal allowRoot;

    function setUp() public virtual {
        vm.warp(1_800_000_000);
        usd = new MockStablecoin();
        _buildAllowlist();
        (license, presale) = _deploy(_presaleConfig(address(0), address(usd)));
        vm.label(address(license), "WatchDogLicense");
        vm.label(address(presale), "WatchDogPresale");
        vm.label(address(usd), "mUSD");
    }

    // ---------------------------------------------------------------- deployment

    function _tiers() internal pure returns (WatchDogPresale.Tier[] memory t) {
        t = new WatchDogPresale.Tier[](3);
        t[0] = WatchDogPresale.Tier({start: 0, ethPrice: ETH0, tokenPrice: USD0});
        t[1] = WatchDogPresale.Tier({start: 40, ethPrice: ETH1, tokenPrice: USD1});
        t[2] = WatchDogPresale.Tier({start: 80, ethPrice: ETH2, tokenPrice: USD2});
    }

    function _allowlistPhase() internal view returns (WatchDogPresale.AllowlistPhase memory) {
        return WatchDogPresale.AllowlistPhase({
            start: AL_START, end: AL_END, reserve: RESERVE, merkleRoot: allowRoot
        });
    }

    function _publicPhase() internal pure returns (WatchDogPresale.PublicPhase memory) {
        return
            WatchDogPresale.PublicPhase({
                start: PUB_START, end: PUB_END, walletCap: WALLET_CAP, txCap: TX_CAP
            });
    }

    function _licenseConfig(address minter) internal view returns (WatchDogLicense.Config memory) {
        return WatchDogLicense.Config({
            name: "SendingNetwork WatchDog License",
            symbol: "SNWD",
            baseURI: BASE_URI,
            owner: owner,
            minter: minter,
            unlockTime: UNLOCK,
            maxUnlockTime: MAX_UNLOCK
        });
    }

    /// @dev Presale config with both phases scheduled; `license_` zero means "fill in at deploy".
    function _presaleConfig(address license_, address token)
        internal
        view
        returns (WatchDogPresale.Config memory c)
    {
        c.owner = owner;
        c.license = license_;
        c.paymentToken = token;
        c.treasury = treasury;
        c.supply = SUPPLY;
        c.tiers = _tiers();
        c.allowlist = _allowlistPhase();
        c.publicPhase = _publicPhase();
        c.selfRefundTime = SELF_REFUND;
        c.refundDeadline = REFUND_DEADLINE;
    }

    /// @dev License first (minter = the presale's predicted address), then the presale.
    function _deploy(WatchDogPresale.Config memory c)
        internal
        returns (WatchDogLicense l, WatchDogPresale p)
    {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        l = new WatchDogLicense(_licenseConfig(predicted));
        c.license = address(l);
        p = new WatchDogPresale(c);
        require(address(p) == predicted, "prediction");
    }

    // ---------------------------------------------------------------- allowlist

    function _buildAllowlist() internal {
        allowlisted.push(alice);
        allowances.push(5);
        allowlisted.push(bob);
        allowances.push(3);
        allowlisted.push(carol);
        allowances.push(30);
        for (uint256 i; i < 5; ++i) {
            allowlisted.push(makeAddr(string.concat("listed", vm.toString(i))));
            allowances.push(2);
        }
        for (uint256 i; i < allowlisted.length; ++i) {
            allowLeaves.push(_leaf(allowlisted[i], allowances[i]));
        }
        allowRoot = Merkle.root(allowLeaves);
    }

    function _leaf(address account, uint256 maxQuantity) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, maxQuantity, uint8(1)))));
    }

    /// @dev Proof for allowlisted account number `i`.
    function _proof(uint256 i) internal view returns (bytes32[] memory) {
        return Merkle.proof(allowLeaves, i);
    }

    // ---------------------------------------------------------------- buying

    function _openAllowlist() internal {
        vm.warp(AL_START);
    }

    function _openPublic() internal {
        vm.warp(PUB_START);
    }

    /// @dev Expected cost of sale indices [from, from + q) in ETH (mirrors the tiers above).
    function _ethCost(uint256 from, uint256 q) internal pure returns (uint256 cost) {
        for (uint256 i = from; i < from + q; ++i) {
            cost += i < 40 ? ETH0 : i < 80 ? ETH1 : ETH2;
        }
    }

    function _usdCost(uint256 from, uint256 q) internal pure returns (uint256 cost) {
        for (uint256 i = from; i < from + q; ++i) {
            cost += i < 40 ? USD0 : i < 80 ? USD1 : USD2;
        }
    }

    function _buyPublicEth(address buyer, uint256 q) internal returns (uint256 cost) {
        cost = presale.quote(q, WatchDogPresale.Currency.Eth);
        vm.deal(buyer, buyer.balance + cost);
        vm.prank(buyer);
        presale.buyPublic{value: cost}(q, cost);
    }

    function _buyPublicUsd(address buyer, uint256 q) internal returns (uint256 cost) {
        cost = presale.quote(q, WatchDogPresale.Currency.Token);
        usd.mint(buyer, cost);
        vm.startPrank(buyer);
        usd.approve(address(presale), cost);
        presale.buyPublicWithToken(q, cost);
        vm.stopPrank();
    }

    function _buyAllowlistEth(uint256 i, uint256 q) internal returns (uint256 cost) {
        address buyer = allowlisted[i];
        cost = presale.quote(q, WatchDogPresale.Currency.Eth);
        vm.deal(buyer, buyer.balance + cost);
        vm.prank(buyer);
        presale.buyAllowlist{value: cost}(q, allowances[i], _proof(i), cost);
    }

    function _buyAllowlistUsd(uint256 i, uint256 q) internal returns (uint256 cost) {
        address buyer = allowlisted[i];
        cost = presale.quote(q, WatchDogPresale.Currency.Token);
        usd.mint(buyer, cost);
        vm.startPrank(buyer);
        usd.approve(address(presale), cost);
        presale.buyAllowlistWithToken(q, allowances[i], _proof(i), cost);
        vm.stopPrank();
    }

    function _ids(uint256 from, uint256 count) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            ids[i] = from + i;
        }
    }

    function _one(uint256 id) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = id;
    }
}
