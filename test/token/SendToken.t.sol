// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {SendToken} from "../../contracts/token/SendToken.sol";

contract SendTokenTest is ProtocolTestBase {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal nodeRewards = makeAddr("nodeRewards");
    address internal guardianRewards = makeAddr("guardianRewards");
    address internal treasuryAlloc = makeAddr("treasuryAlloc");

    function _allocations() internal view returns (SendToken.Allocations memory) {
        return SendToken.Allocations({
            nodeRewards: nodeRewards,
            licensePool: licensePool,
            guardianRewards: guardianRewards,
            treasury: treasuryAlloc
        });
    }

    // ---------------------------------------------------------------- supply and allocations

    function test_Constants() public view {
        assertEq(token.TOTAL_SUPPLY(), 1_000_000_000 ether);
        assertEq(token.NODE_REWARDS_SUPPLY(), 400_000_000 ether);
        assertEq(token.LICENSE_POOL_SUPPLY(), 120_000_000 ether);
        assertEq(token.GUARDIAN_REWARDS_SUPPLY(), 30_000_000 ether);
        assertEq(token.TREASURY_SUPPLY(), 450_000_000 ether);
        // the WatchDog license pool is exactly 12% of supply
        assertEq(token.LICENSE_POOL_SUPPLY() * 100, token.TOTAL_SUPPLY() * 12);
        assertEq(
            token.NODE_REWARDS_SUPPLY() + token.LICENSE_POOL_SUPPLY() + token.GUARDIAN_REWARDS_SUPPLY()
                + token.TREASURY_SUPPLY(),
            token.TOTAL_SUPPLY()
        );
    }

    function test_Metadata() public view {
        assertEq(token.name(), "SendingNetwork");
        assertEq(token.symbol(), "SEND");
        assertEq(token.decimals(), 18);
    }

    function test_Constructor_MintsAllocationsExactly() public {
        SendToken t = new SendToken(_allocations());
        assertEq(t.totalSupply(), 1_000_000_000 ether);
        assertEq(t.balanceOf(nodeRewards), 400_000_000 ether);
        assertEq(t.balanceOf(licensePool), 120_000_000 ether);
        assertEq(t.balanceOf(guardianRewards), 30_000_000 ether);
        assertEq(t.balanceOf(treasuryAlloc), 450_000_000 ether);
        assertEq(t.balanceOf(address(this)), 0);
        assertEq(t.balanceOf(licensePool) * 100 / t.totalSupply(), 12);
    }

    function test_Constructor_SuiteDeploymentAllocations() public view {
        // ProtocolTestBase sends node and guardian rewards to the settlement escrow
        assertEq(token.totalSupply(), 1_000_000_000 ether);
        assertEq(token.balanceOf(address(settlement)), 430_000_000 ether);
        assertEq(token.balanceOf(licensePool), 120_000_000 ether);
        assertEq(token.balanceOf(treasury), 450_000_000 ether);
    }

    function test_Constructor_EmitsTransferAndAllocationEvents() public {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));

        vm.expectEmit(true, true, true, true, predicted);
        emit IERC20.Transfer(address(0), nodeRewards, 400_000_000 ether);
        vm.expectEmit(true, true, true, true, predicted);
        emit SendToken.AllocationMinted("NODE_REWARDS", nodeRewards, 400_000_000 ether);
        vm.expectEmit(true, true, true, true, predicted);
        emit IERC20.Transfer(address(0), licensePool, 120_000_000 ether);
        vm.expectEmit(true, true, true, true, predicted);
        emit SendToken.AllocationMinted("LICENSE_POOL", licensePool, 120_000_000 ether);
        vm.expectEmit(true, true, true, true, predicted);
        emit IERC20.Transfer(address(0), guardianRewards, 30_000_000 ether);
        vm.expectEmit(true, true, true, true, predicted);
        emit SendToken.AllocationMinted("GUARDIAN_REWARDS", guardianRewards, 30_000_000 ether);
        vm.expectEmit(true, true, true, true, predicted);
        emit IERC20.Transfer(address(0), treasuryAlloc, 450_000_000 ether);
        vm.expectEmit(true, true, true, true, predicted);
        emit SendToken.AllocationMinted("TREASURY", treasuryAlloc, 450_000_000 ether);

        SendToken t = new SendToken(_allocations());
        assertEq(address(t), predicted);
    }

    function test_Constructor_ExactlyEightLogs() public {
        vm.recordLogs();
        new SendToken(_allocations());
        assertEq(vm.getRecordedLogs().length, 8, "4 Transfer + 4 AllocationMinted");
    }

    /// @dev Recipients may coincide: each address receives the sum of its allocations.
    function testFuzz_Constructor_AllocationsToAnyRecipients(address a, address b, address c, address d)
        public
    {
        vm.assume(a != address(0) && b != address(0) && c != address(0) && d != address(0));
        SendToken t = new SendToken(
            SendToken.Allocations({nodeRewards: a, licensePool: b, guardianRewards: c, treasury: d})
        );
        address[4] memory who = [a, b, c, d];
        uint256[4] memory amt =
            [uint256(400_000_000 ether), 120_000_000 ether, 30_000_000 ether, 450_000_000 ether];
        for (uint256 i; i < 4; ++i) {
            uint256 expected;
            for (uint256 j; j < 4; ++j) {
                if (who[j] == who[i]) expected += amt[j];
            }
            assertEq(t.balanceOf(who[i]), expected);
        }
        assertEq(t.totalSupply(), 1_000_000_000 ether);
    }

    function test_RevertWhen_Constructor_ZeroNodeRewards() public {
        SendToken.Allocations memory a = _allocations();
        a.nodeRewards = address(0);
        vm.expectRevert(
            abi.encodeWithSelector(SendToken.ZeroAllocationRecipient.selector, bytes32("NODE_REWARDS"))
        );
        new SendToken(a);
    }

    function test_RevertWhen_Constructor_ZeroLicensePool() public {
        SendToken.Allocations memory a = _allocations();
        a.licensePool = address(0);
        vm.expectRevert(
            abi.encodeWithSelector(SendToken.ZeroAllocationRecipient.selector, bytes32("LICENSE_POOL"))
        );
        new SendToken(a);
    }

    function test_RevertWhen_Constructor_ZeroGuardianRewards() public {
        SendToken.Allocations memory a = _allocations();
        a.guardianRewards = address(0);
        vm.expectRevert(
            abi.encodeWithSelector(SendToken.ZeroAllocationRecipient.selector, bytes32("GUARDIAN_REWARDS"))
        );
        new SendToken(a);
    }

    function test_RevertWhen_Constructor_ZeroTreasury() public {
        SendToken.Allocations memory a = _allocations();
        a.treasury = address(0);
        vm.expectRevert(
            abi.encodeWithSelector(SendToken.ZeroAllocationRecipient.selector, bytes32("TREASURY"))
        );
        new SendToken(a);
    }

    function test_RevertWhen_Constructor_AllZero_ReportsFirstAllocation() public {
        vm.expectRevert(
            abi.encodeWithSelector(SendToken.ZeroAllocationRecipient.selector, bytes32("NODE_REWARDS"))
        );
        new SendToken(SendToken.Allocations(address(0), address(0), address(0), address(0)));
    }

    // ---------------------------------------------------------------- no mint

    /// @dev Any call with any selector and data, from anyone, leaves the supply at exactly 1e9 SEND.
    function testFuzz_NoMintPossible(address caller, bytes4 selector, bytes calldata data) public {
        vm.prank(caller);
        (bool ok,) = address(token).call(abi.encodePacked(selector, data));
        ok; // standard ERC-20 functions may succeed; none of them can mint
        assertEq(token.totalSupply(), 1_000_000_000 ether);
    }

    function test_NoMintFunctions() public {
        bytes[4] memory calls = [
            abi.encodeWithSignature("mint(address,uint256)", address(this), 1 ether),
            abi.encodeWithSignature("mint(uint256)", 1 ether),
            abi.encodeWithSignature("owner()"),
            abi.encodeWithSignature("pause()")
        ];
        for (uint256 i; i < calls.length; ++i) {
            vm.prank(treasury);
            (bool ok,) = address(token).call(calls[i]);
            assertFalse(ok);
        }
        assertEq(token.totalSupply(), 1_000_000_000 ether);
        assertEq(token.balanceOf(address(this)), 0);
    }

    function testFuzz_TransfersKeepSupply(address to, uint256 amount) public {
        vm.assume(to != address(0) && to != treasury);
        amount = bound(amount, 0, 450_000_000 ether);
        uint256 before = token.balanceOf(to); // the fuzzer also picks holders (license pool, settlement)
        vm.prank(treasury);
        assertTrue(token.transfer(to, amount));
        assertEq(token.balanceOf(to), before + amount);
        assertEq(token.balanceOf(treasury), 450_000_000 ether - amount);
        assertEq(token.totalSupply(), 1_000_000_000 ether);
    }

    // ---------------------------------------------------------------- permit (EIP-2612)

    function _domainSeparator(address t) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256("SendingNetwork"), keccak256("1"), block.chainid, t)
            );
    }

    function _permitDigest(address owner_, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encodePacked(
                "\x19\x01",
                _domainSeparator(address(token)),
                keccak256(abi.encode(PERMIT_TYPEHASH, owner_, spender, value, nonce, deadline))
            )
        );
    }

    function test_DomainSeparator() public view {
        assertEq(token.DOMAIN_SEPARATOR(), _domainSeparator(address(token)));
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            token.eip712Domain();
        assertEq(name, "SendingNetwork");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(token));
    }

    function testFuzz_Permit(uint256 ownerPk, address spender, uint256 value, uint256 deadline) public {
        ownerPk = bound(ownerPk, 1, SECP256K1_N - 1);
        address owner_ = vm.addr(ownerPk);
        vm.assume(spender != address(0));
        deadline = bound(deadline, block.timestamp, type(uint256).max);
        assertEq(token.nonces(owner_), 0);

        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerPk, _permitDigest(owner_, spender, value, 0, deadline));

        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Approval(owner_, spender, value);
        vm.prank(makeAddr("relayer"));
        token.permit(owner_, spender, value, deadline, v, r, s);

        assertEq(token.allowance(owner_, spender), value);
        assertEq(token.nonces(owner_), 1);
    }

    function testFuzz_PermitThenTransferFrom(uint256 amount) public {
        (address holder, uint256 holderPk) = makeAddrAndKey("holder");
        address spender = makeAddr("spender");
        amount = bound(amount, 1, 1_000_000 ether);
        _fund(holder, amount);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(holderPk, _permitDigest(holder, spender, amount, 0, deadline));

        vm.startPrank(spender);
        token.permit(holder, spender, amount, deadline, v, r, s);
        assertTrue(token.transferFrom(holder, spender, amount));
        vm.stopPrank();

        assertEq(token.balanceOf(spender), amount);
        assertEq(token.balanceOf(holder), 0);
        assertEq(token.allowance(holder, spender), 0);
    }

    function testFuzz_RevertWhen_PermitExpired(uint256 deadline) public {
        (address holder, uint256 holderPk) = makeAddrAndKey("holder");
        address spender = makeAddr("spender");
        deadline = bound(deadline, 0, block.timestamp - 1);
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(holderPk, _permitDigest(holder, spender, 1 ether, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        token.permit(holder, spender, 1 ether, deadline, v, r, s);
    }

    function test_RevertWhen_PermitSignedByAnotherKey() public {
        address holder = makeAddr("holder");
        (address mallory, uint256 malloryPk) = makeAddrAndKey("mallory");
        address spender = makeAddr("spender");
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(malloryPk, _permitDigest(holder, spender, 1 ether, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, mallory, holder));
        token.permit(holder, spender, 1 ether, deadline, v, r, s);
        assertEq(token.allowance(holder, spender), 0);
        assertEq(token.nonces(holder), 0);
    }

    function test_RevertWhen_PermitReplayed() public {
        (address holder, uint256 holderPk) = makeAddrAndKey("holder");
        address spender = makeAddr("spender");
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(holderPk, _permitDigest(holder, spender, 1 ether, 0, deadline));
        token.permit(holder, spender, 1 ether, deadline, v, r, s);

        // The nonce moved to 1, so the same signature now recovers some other address.
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector);
        token.permit(holder, spender, 1 ether, deadline, v, r, s);
        assertEq(token.nonces(holder), 1);
    }

    function test_RevertWhen_PermitValueTampered() public {
        (address holder, uint256 holderPk) = makeAddrAndKey("holder");
        address spender = makeAddr("spender");
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(holderPk, _permitDigest(holder, spender, 1 ether, 0, deadline));
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector);
        token.permit(holder, spender, 2 ether, deadline, v, r, s);
    }

    function test_RevertWhen_PermitForOtherTokenDomain() public {
        // A permit signed for another deployment of SEND does not work here.
        SendToken other = new SendToken(_allocations());
        (address holder, uint256 holderPk) = makeAddrAndKey("holder");
        address spender = makeAddr("spender");
        uint256 deadline = block.timestamp + 1;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                _domainSeparator(address(other)),
                keccak256(abi.encode(PERMIT_TYPEHASH, holder, spender, 1 ether, 0, deadline))
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(holderPk, digest);
        other.permit(holder, spender, 1 ether, deadline, v, r, s); // valid on its own domain
        vm.expectPartialRevert(ERC20Permit.ERC2612InvalidSigner.selector);
        token.permit(holder, spender, 1 ether, deadline, v, r, s);
    }

    function test_RevertWhen_TransferExceedsBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, address(this), 0, 1)
        );
        token.transfer(treasury, 1);
    }
}
