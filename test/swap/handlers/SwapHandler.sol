// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {SwapSettlement} from "../../../contracts/swap/SwapSettlement.sol";
import {Asset, AssetKind, SwapOrder} from "../../../contracts/swap/SwapOrderLib.sol";
import {TestERC20, TestERC721} from "../mocks/TestTokens.sol";

/// @notice Drives SwapSettlement with really-signed orders between a fixed set of accounts holding two ERC-20s,
///         one ERC-721 collection and ETH: fills of every leg pair (open and fixed taker, nonces spread over
///         several bitmap words), faulty fills that must be refused (expired, wrong taker, bad signature,
///         replayed, cancelled, below the minimum nonce, unaffordable, wrong msg.value, uncovered escrow),
///         deposits, withdrawals, cancels and time. Ghost state mirrors every balance; each fill's two legs
///         are measured by balance deltas.
contract SwapHandler is CommonBase, StdCheats, StdUtils {
    uint256 public constant ACTORS = 6;
    uint256 public constant NFT_IDS = 12;
    uint256 public constant INITIAL_ERC20 = 1_000_000e18;
    uint256 public constant INITIAL_ETH = 1_000 ether;

    uint8 internal constant ERC20 = uint8(AssetKind.ERC20);
    uint8 internal constant ERC721 = uint8(AssetKind.ERC721);
    uint8 internal constant ETH = uint8(AssetKind.ETH);

    SwapSettlement public immutable swap;
    TestERC20 public immutable usd;
    TestERC20 public immutable send;
    TestERC721 public immutable nft;

    address[ACTORS] public actors;
    uint256[ACTORS] internal _keys;
    mapping(address => uint256) public nextNonce;

    // ---------------------------------------------------------------- ghost state

    mapping(address token => mapping(address account => uint256)) public ghostErc20;
    mapping(uint256 id => address) public ghostNftOwner;
    mapping(address account => uint256) public ghostEth;
    mapping(address maker => uint256) public ghostEscrow;

    uint256 public ghostFills;
    /// Fills where a leg moved by other than its exact amount (or one leg moved and the other did not).
    uint256 public ghostLegViolations;
    /// Faulty fills the contract accepted.
    uint256 public ghostBadFillsAccepted;
    uint256 public ghostBadFillsRefused;

    /// Filled and cancelled orders with their signatures, replayed by `fillFaulty`.
    SwapOrder[] internal _spent;
    bytes[] internal _spentSigs;

    mapping(bytes32 => uint256) public calls;

    constructor(SwapSettlement swap_, TestERC20 usd_, TestERC20 send_, TestERC721 nft_) {
        swap = swap_;
        usd = usd_;
        send = send_;
        nft = nft_;
        for (uint256 i; i < ACTORS; ++i) {
            (address a, uint256 k) = makeAddrAndKey(string.concat("actor", vm.toString(i)));
            actors[i] = a;
            _keys[i] = k;
            usd.mint(a, INITIAL_ERC20);
            send.mint(a, INITIAL_ERC20);
            ghostErc20[address(usd)][a] = INITIAL_ERC20;
            ghostErc20[address(send)][a] = INITIAL_ERC20;
            vm.deal(a, INITIAL_ETH);
            ghostEth[a] = INITIAL_ETH;
            vm.startPrank(a);
            usd.approve(address(swap), type(uint256).max);
            send.approve(address(swap), type(uint256).max);
            nft.setApprovalForAll(address(swap), true);
            vm.stopPrank();
        }
        for (uint256 id; id < NFT_IDS; ++id) {
            nft.mint(actors[id % ACTORS], id);
            ghostNftOwner[id] = actors[id % ACTORS];
        }
    }

    // ---------------------------------------------------------------- helpers

    function _pair(uint256 makerSeed, uint256 takerSeed) internal pure returns (uint256 m, uint256 t) {
        m = makerSeed % ACTORS;
        t = (m + 1 + takerSeed % (ACTORS - 1)) % ACTORS;
    }

    function _nftOf(address owner, uint256 seed) internal view returns (bool found, uint256 id) {
        for (uint256 i; i < NFT_IDS; ++i) {
            id = (seed % NFT_IDS + i) % NFT_IDS;
            if (ghostNftOwner[id] == owner) return (true, id);
        }
    }

    /// @dev A leg `from` can afford, of the requested kind when possible (else an ERC-20 other than `avoid`);
    ///      `ok` is false when `from` can afford nothing.
    function _leg(uint8 kind, address from, bool makerSide, uint256 seed, address avoid)
        internal
        view
        returns (bool ok, Asset memory a)
    {
        kind = kind % 3;
        if (kind == ERC721) {
            (bool found, uint256 id) = _nftOf(from, seed);
            if (found) return (true, Asset(ERC721, address(nft), id));
        } else if (kind == ETH) {
            uint256 available = makerSide ? ghostEscrow[from] : ghostEth[from];
            if (available > 0) return (true, Asset(ETH, address(0), bound(seed, 1, available)));
        }
        address token = seed % 2 == 0 ? address(usd) : address(send);
        if (token == avoid || ghostErc20[token][from] == 0) {
            token = token == address(usd) ? address(send) : address(usd);
        }
        uint256 balance = ghostErc20[token][from];
        if (token == avoid || balance == 0) return (false, a);
        return (true, Asset(ERC20, token, bound(seed, 1, balance)));
    }

    function _sign(uint256 makerIndex, SwapOrder memory o) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[makerIndex], swap.hashOrder(o));
        return abi.encodePacked(r, s, v);
    }

    function _newOrder(uint256 m, Asset memory makerAsset, Asset memory takerAsset, uint256 nonceGap)
        internal
        returns (SwapOrder memory o)
    {
        address maker = actors[m];
        o = SwapOrder({
            maker: maker,
            taker: address(0),
            makerAsset: makerAsset,
            takerAsset: takerAsset,
            expiry: block.timestamp + 1 hours,
            nonce: nextNonce[maker]
        });
        nextNonce[maker] += 1 + nonceGap % 300; // spreads nonces over several bitmap words
    }

    function _holding(address who, Asset memory a) internal view returns (uint256) {
        if (a.kind == ERC20) return TestERC20(a.token).balanceOf(who);
        if (a.kind == ERC721) return nft.ownerOf(a.amountOrId) == who ? 1 : 0;
        return who.balance;
    }

    function _units(Asset memory a) internal pure returns (uint256) {
        return a.kind == ERC721 ? 1 : a.amountOrId;
    }

    function _ghostMove(Asset memory a, address from, address to, bool fromEscrow) internal {
        if (a.kind == ERC20) {
            ghostErc20[a.token][from] -= a.amountOrId;
            ghostErc20[a.token][to] += a.amountOrId;
        } else if (a.kind == ERC721) {
            ghostNftOwner[a.amountOrId] = to;
        } else {
            if (fromEscrow) ghostEscrow[from] -= a.amountOrId;
            else ghostEth[from] -= a.amountOrId;
            ghostEth[to] += a.amountOrId;
        }
    }

    // ---------------------------------------------------------------- actions

    /// A valid fill of an affordable order; must succeed and move both legs exactly.
    function fill(
        uint256 makerSeed,
        uint256 takerSeed,
        uint8 makerKind,
        uint8 takerKind,
        uint256 makerAmountSeed,
        uint256 takerAmountSeed,
        bool fixedTaker
    ) external {
        (uint256 m, uint256 t) = _pair(makerSeed, takerSeed);
        (bool makerOk, Asset memory makerAsset) =
            _leg(makerKind, actors[m], true, makerAmountSeed, address(0));
        // The taker's leg is of another token than the maker's ERC-20 and not ETH against ETH, so each leg's
        // balance deltas measure that leg alone.
        if (makerAsset.kind == ETH) takerKind = takerKind % 2;
        address avoid = makerAsset.kind == ERC20 ? makerAsset.token : address(0);
        (bool takerOk, Asset memory takerAsset) = _leg(takerKind, actors[t], false, takerAmountSeed, avoid);
        if (!makerOk || !takerOk) return;
        SwapOrder memory o = _newOrder(m, makerAsset, takerAsset, makerAmountSeed ^ takerAmountSeed);
        if (fixedTaker) o.taker = actors[t];
        bytes memory sig = _sign(m, o);
        _fillAndMeasure(actors[t], o, sig);
        _ghostMove(o.makerAsset, o.maker, actors[t], true);
        _ghostMove(o.takerAsset, actors[t], o.maker, false);
        _spent.push(o);
        _spentSigs.push(sig);
        ++ghostFills;
        ++calls["fill"];
    }

    function _fillAndMeasure(address taker, SwapOrder memory o, bytes memory sig) internal {
        uint256[4] memory before = _legHoldings(taker, o);
        uint256 value = o.takerAsset.kind == ETH ? o.takerAsset.amountOrId : 0;
        vm.prank(taker);
        swap.fill{value: value}(o, sig); // an affordable, valid order must fill: a revert fails the run
        uint256[4] memory afterwards = _legHoldings(taker, o);
        uint256 mu = _units(o.makerAsset);
        uint256 tu = _units(o.takerAsset);
        // [0] maker's own leg (escrow for ETH), [1] taker's holding of it, [2] taker's own leg, [3] maker's
        // holding of it.
        bool makerLegOk = before[0] >= afterwards[0] && before[0] - afterwards[0] == mu
            && afterwards[1] >= before[1] && afterwards[1] - before[1] == mu;
        bool takerLegOk = before[2] >= afterwards[2] && before[2] - afterwards[2] == tu
            && afterwards[3] >= before[3] && afterwards[3] - before[3] == tu;
        if (!makerLegOk || !takerLegOk) ++ghostLegViolations;
    }

    function _legHoldings(address taker, SwapOrder memory o) internal view returns (uint256[4] memory h) {
        h[0] = o.makerAsset.kind == ETH ? swap.ethEscrow(o.maker) : _holding(o.maker, o.makerAsset);
        h[1] = _holding(taker, o.makerAsset);
        h[2] = _holding(taker, o.takerAsset);
        h[3] = _holding(o.maker, o.takerAsset);
    }

    /// A fill with one fault; must be refused and move nothing (the ghost is left unchanged, so the
    /// balance invariants catch any movement).
    function fillFaulty(uint256 makerSeed, uint256 takerSeed, uint256 fault, uint256 seed) external {
        (uint256 m, uint256 t) = _pair(makerSeed, takerSeed);
        fault = fault % 10;
        if (fault == 0 && _spent.length == 0) fault = 1;
        SwapOrder memory o;
        bytes memory sig;
        address caller = actors[t];
        if (fault == 0) {
            // replay a filled or cancelled order (by a caller other than its maker)
            uint256 i = seed % _spent.length;
            (o, sig) = (_spent[i], _spentSigs[i]);
            if (o.maker == caller) caller = actors[m];
        } else {
            bool ok;
            (ok, o) = _faultyOrder(m, t, fault, seed);
            if (!ok) return;
            sig = _sign(fault == 3 ? (m + 1) % ACTORS : m, o); // fault 3: signed by someone else
            if (fault == 9) caller = actors[m]; // self-fill
        }
        uint256 value = o.takerAsset.kind == ETH ? o.takerAsset.amountOrId : 0;
        if (fault == 8) value += 1 + seed % 1 ether; // wrong msg.value
        _attempt(caller, o, sig, value);
        if (fault == 5 || fault == 6) {
            _spent.push(o);
            _spentSigs.push(sig);
        }
        ++calls[bytes32(abi.encodePacked("faulty", uint8(fault)))];
    }

    function _faultyOrder(uint256 m, uint256 t, uint256 fault, uint256 seed)
        internal
        returns (bool ok, SwapOrder memory o)
    {
        address maker = actors[m];
        (bool makerOk, Asset memory makerAsset) = _leg(ERC20, maker, true, seed, address(0));
        (bool takerOk, Asset memory takerAsset) =
            _leg(uint8(seed >> 8), actors[t], false, seed >> 16, address(0));
        if (!makerOk || !takerOk) return (false, o);
        o = _newOrder(m, makerAsset, takerAsset, seed);
        if (fault == 1) {
            o.expiry = block.timestamp - 1;
        } else if (fault == 2) {
            uint256 other = (t + 1) % ACTORS == m ? (t + 2) % ACTORS : (t + 1) % ACTORS;
            o.taker = actors[other]; // fixed to someone other than the caller
        } else if (fault == 4) {
            o.makerAsset.amountOrId = ghostErc20[o.makerAsset.token][maker] + 1 + seed % 1e18; // unaffordable
        } else if (fault == 5) {
            vm.prank(maker);
            swap.cancelNonce(o.nonce);
        } else if (fault == 6) {
            vm.prank(maker);
            swap.cancelNoncesBelow(o.nonce + 1);
        } else if (fault == 7) {
            o.makerAsset = Asset(ETH, address(0), ghostEscrow[maker] + 1); // uncovered escrow
            if (o.takerAsset.kind == ETH) o.takerAsset = Asset(ERC721, address(nft), 0);
        }
        return (true, o);
    }

    function _attempt(address caller, SwapOrder memory o, bytes memory sig, uint256 value) internal {
        if (caller.balance < value) {
            // keep the caller able to send the value; the ghost follows the deal
            vm.deal(caller, value);
            ghostEth[caller] = value;
        }
        vm.prank(caller);
        try swap.fill{value: value}(o, sig) {
            ++ghostBadFillsAccepted;
        } catch {
            ++ghostBadFillsRefused;
        }
    }

    function deposit(uint256 actorSeed, uint256 amount) external {
        address a = actors[actorSeed % ACTORS];
        if (ghostEth[a] == 0) return;
        amount = bound(amount, 1, ghostEth[a]);
        vm.prank(a);
        swap.deposit{value: amount}();
        ghostEth[a] -= amount;
        ghostEscrow[a] += amount;
        ++calls["deposit"];
    }

    function withdraw(uint256 actorSeed, uint256 amount) external {
        address a = actors[actorSeed % ACTORS];
        if (ghostEscrow[a] == 0) return;
        amount = bound(amount, 1, ghostEscrow[a]);
        vm.prank(a);
        swap.withdraw(amount);
        ghostEscrow[a] -= amount;
        ghostEth[a] += amount;
        ++calls["withdraw"];
    }

    function cancelAhead(uint256 actorSeed, uint256 ahead) external {
        address a = actors[actorSeed % ACTORS];
        uint256 nonce = nextNonce[a] + bound(ahead, 0, 1_000);
        vm.prank(a);
        swap.cancelNonce(nonce);
        // a later order may be assigned this nonce: skip past it
        if (nextNonce[a] <= nonce) nextNonce[a] = nonce + 1;
        ++calls["cancelAhead"];
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 hours));
        ++calls["warp"];
    }

    // ---------------------------------------------------------------- views for the invariants

    function actorList() external view returns (address[ACTORS] memory) {
        return actors;
    }

    function spentCount() external view returns (uint256) {
        return _spent.length;
    }
}
