// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IOfferSettlement} from "../../interfaces/IOfferSettlement.sol";
import {ITradingMandate} from "../../interfaces/ITradingMandate.sol";

/// @title OfferLib: the pure parts of OfferSettlement (EIP-712 domain and digest, cost) and the funding checks
/// @notice Kept apart so the contract holds only state, validity rules and settlement.
/// @dev The domain and digest are computed here exactly as OpenZeppelin 5.7's EIP712 does (same type hash, same
///      `\x19\x01` encoding), because that contract cannot be compiled for EVM berlin: it imports
///      MessageHashUtils → Strings → Bytes, whose assembly uses `mcopy` (Cancun). ECDSA comes from OpenZeppelin.
library OfferLib {
    /// @notice An offer's fill state as read from its lane. `filled` never exceeds the offer's signed amountWh.
    struct State {
        uint256 filled;
        bool cancelled;
        uint256 heldUntil; // non-zero: the lane belongs to another offer, valid until then (SaltInUse)
    }

    /// @notice The outcome of checking one entry: what to settle, or why not.
    struct Verdict {
        bytes32 offerHash;
        IOfferSettlement.Check result;
        uint256 amount; // Wh to settle (clamped to the remainder when asked)
        uint256 cost;
        uint256 filled; // Wh filled before this entry
        uint256 have;
        uint256 need;
        address recovered; // signer when not the seller's: BadSignature, or the seller's agent
    }

    /// @notice What fillMany has done so far.
    struct Tally {
        uint256 filled;
        uint256 totalWh;
        uint256 totalCost;
        uint256 skipped;
        bytes32 firstHash; // first skipped offer and why
        IOfferSettlement.Check firstReason;
    }

    /// @dev EIP-712 domain type: name, version, chainId, verifyingContract (no salt).
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string internal constant NAME = "EnergyOfferSettlement";
    string internal constant VERSION = "1";

    /// @dev keccak256 of the EIP-712 type string; energy_chain/offers.py builds the same string from OFFER_FIELDS.
    bytes32 internal constant OFFER_TYPEHASH = keccak256(
        "Offer(address seller,uint64 price,uint64 amountWh,uint64 validFrom,uint64 validUntil,uint256 salt,uint256 counter)"
    );
    uint256 internal constant WH_PER_KWH = 1000;

    /// @notice hashStruct(offer) of EIP-712: keccak256(typehash, each field as one 32-byte word).
    /// @param o The offer.
    /// @return h The struct hash (not yet combined with the domain).
    function structHash(IOfferSettlement.Offer calldata o) internal pure returns (bytes32 h) {
        bytes32 typehash = OFFER_TYPEHASH;
        // The struct is static: its seven words lie in calldata as they are encoded (what abi.encode would copy).
        // Fields with dirty high bits hash differently from what was signed (so never verify), and every field
        // the contract reads is validated by the ABI decoder on access.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typehash)
            calldatacopy(add(ptr, 0x20), o, 0xe0)
            h := keccak256(ptr, 0x100)
        }
    }

    /// @notice The EIP-712 domain separator of `verifyingContract` on the current chain.
    /// @param verifyingContract The settlement contract.
    /// @return keccak256(DOMAIN_TYPEHASH, keccak256(NAME), keccak256(VERSION), chainid, verifyingContract).
    function domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256(bytes(NAME)), keccak256(bytes(VERSION)), block.chainid, verifyingContract
            )
        );
    }

    /// @notice The EIP-712 digest: keccak256("\x19\x01" || domainSeparator || structHash).
    /// @param domain The domain separator.
    /// @param hashOfStruct The struct hash.
    /// @return digest What the seller signs.
    function typedDataHash(bytes32 domain, bytes32 hashOfStruct) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domain)
            mstore(add(ptr, 0x22), hashOfStruct)
            digest := keccak256(ptr, 0x42)
        }
    }

    /// @notice Settlement units for `amountWh` at `price` per kWh, floored (the project's one cost rule).
    /// @param price Settlement units per kWh.
    /// @param amountWh Wh.
    /// @return The cost.
    function cost(uint256 price, uint256 amountWh) internal pure returns (uint256) {
        return price * amountWh / WH_PER_KWH;
    }

    /// @notice Whether a check result means "gone or short" (skippable), as opposed to a caller error.
    /// @param c The result.
    /// @return True for NotYetValid..BuyerAllowanceShort and SaltInUse.
    function isGone(IOfferSettlement.Check c) internal pure returns (bool) {
        return (c != IOfferSettlement.Check.Ok && uint8(c) <= uint8(IOfferSettlement.Check.BuyerAllowanceShort))
            || c == IOfferSettlement.Check.SaltInUse || c == IOfferSettlement.Check.MandateRefused;
    }

    /// @notice Whether `signer` is the agent `seller` mandated in `mandate` (false when no mandate is set, or the
    ///         seller has none, or revoked it).
    /// @param mandate The venue's TradingMandate (0: none).
    /// @param seller The offer's seller.
    /// @param signer Who signed the offer.
    /// @return True when `signer` is the seller's current agent (expiry and venue are sellAllowed's).
    function isAgentOf(ITradingMandate mandate, address seller, address signer) internal view returns (bool) {
        return address(mandate) != address(0) && mandate.termsOf(seller).agent == signer;
    }

    /// @notice Whether the seller's bounds let its agent sell `amountWh` at `price` now: not expired, the venue
    ///         granted, price >= minSellPrice and the energy balance minus amountWh >= reserveWh. The same rules as
    ///         TradingMandate.authorize (which the fill still calls), read as a view so fillMany can skip and check
    ///         can tell.
    /// @param mandate The TradingMandate (set).
    /// @param energy The energy token.
    /// @param seller The seller.
    /// @param price Offer price.
    /// @param amountWh Fill amount.
    /// @param venue The venue bit.
    /// @return True when allowed.
    function sellAllowed(
        ITradingMandate mandate,
        IERC20 energy,
        address seller,
        uint256 price,
        uint256 amountWh,
        uint8 venue
    ) internal view returns (bool) {
        ITradingMandate.Terms memory t = mandate.termsOf(seller);
        if (t.validUntil != 0 && block.timestamp >= t.validUntil) return false;
        if (t.venues & venue == 0 || price < t.minSellPrice) return false;
        uint256 balance = energy.balanceOf(seller);
        return balance >= amountWh && balance - amountWh >= t.reserveWh;
    }

    /// @notice Checks that the seller can deliver `amountWh` energy and the buyer can pay `units`, reading balances
    ///         and allowances to `spender`; returns the first shortfall with what is there and what is needed.
    /// @param energy The energy token.
    /// @param money The settlement token.
    /// @param spender The contract that will call transferFrom.
    /// @param seller Delivers energy.
    /// @param buyer Pays.
    /// @param amountWh Energy to deliver.
    /// @param units Settlement units to pay.
    /// @return result Ok or the shortfall.
    /// @return have Balance or allowance found (0 when Ok).
    /// @return need amountWh or units (0 when Ok).
    function funding(
        IERC20 energy,
        IERC20 money,
        address spender,
        address seller,
        address buyer,
        uint256 amountWh,
        uint256 units
    ) internal view returns (IOfferSettlement.Check result, uint256 have, uint256 need) {
        have = energy.balanceOf(seller);
        if (have < amountWh) return (IOfferSettlement.Check.SellerBalanceShort, have, amountWh);
        have = energy.allowance(seller, spender);
        if (have < amountWh) return (IOfferSettlement.Check.SellerAllowanceShort, have, amountWh);
        have = money.balanceOf(buyer);
        if (have < units) return (IOfferSettlement.Check.BuyerBalanceShort, have, units);
        have = money.allowance(buyer, spender);
        if (have < units) return (IOfferSettlement.Check.BuyerAllowanceShort, have, units);
        return (IOfferSettlement.Check.Ok, 0, 0);
    }
}
