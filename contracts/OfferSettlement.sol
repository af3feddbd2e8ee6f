// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IOfferSettlement} from "../interfaces/IOfferSettlement.sol";
import {IMandatedVenue} from "../interfaces/IMandatedVenue.sol";
import {ITradingMandate} from "../interfaces/ITradingMandate.sol";
import {Side} from "../interfaces/MarketTypes.sol";
import {OfferLib} from "./libraries/OfferLib.sol";

/// @title OfferSettlement: fills of sell offers signed off chain (EIP-712), for direct meter-to-meter trading
/// @notice See IOfferSettlement for the rules. Energy moves seller → buyer and settlement units buyer → seller with
///         transferFrom in the fill's transaction; the contract holds no tokens and has no admin: only its deployer
///         may set the TradingMandate, once (IMandatedVenue), for fillFor and offers signed by a seller's agent.
/// @dev Storage: one word per (seller, salt) lane holding the fill state of the one offer that owns it (Wh filled,
///      cancelled flag, the offer's validUntil and the top 120 bits of its hash) and one slot per seller that raised
///      its counter (Seaport style). A lane belongs to the offer recorded in it until that offer expires (it can
///      never fill again); then the seller may reuse the salt for a new offer, whose first fill overwrites a non-zero
///      word (5k gas) instead of writing a fresh slot (22k). Another offer of the same seller and salt is refused
///      (SaltInUse) while the lane's offer is still valid. See docs/offers.md.
///      Every entry is checked completely (signature, validity, remainder, both parties' balances and allowances)
///      before its lane is written, and its two transfers run after that write (checks-effects-interactions per
///      entry). No reentrancy guard: the tokens are the project's own OpenZeppelin ERC20s without hooks, and a
///      re-entering token would only meet the already written state (docs/security.md, tested).
///      EIP-712 as OpenZeppelin's EIP712 (domain cached for the deploying chain, rebuilt on another chain id) but
///      written in OfferLib: OpenZeppelin 5.7's EIP712 does not compile for EVM berlin (see OfferLib).
///      Mandate: asked only by fillFor and for a signature that is not the seller's (the BadSignature branch), so a
///      plain fill costs what it did.
contract OfferSettlement is IOfferSettlement, IMandatedVenue, IERC5267 {
    using SafeERC20 for IERC20;

    uint256 private constant MAX_FILLS = 32;
    uint256 private constant MAX_STATES = 256;
    uint8 private constant VENUE = 4; // the direct venue's TradingMandate bit

    /// @dev Lane word: bits 0-63 Wh filled, 64-127 the owning offer's validUntil, 128 cancelled, 136-255 the top 120
    ///      bits of the owning offer's hash (its fingerprint).
    uint256 private constant UNTIL_SHIFT = 64;
    uint256 private constant CANCELLED_BIT = 1 << 128;
    uint256 private constant PRINT_MASK = type(uint256).max << 136;

    /// @dev An offer's fill state as read from its lane. `filled` never exceeds the offer's signed amountWh.
    struct State {
        uint256 filled;
        bool cancelled;
        uint256 heldUntil; // non-zero: the lane belongs to another offer, valid until then (SaltInUse)
    }

    /// @dev The outcome of checking one entry: what to settle, or why not.
    struct Verdict {
        bytes32 offerHash;
        Check result;
        uint256 amount; // Wh to settle (clamped to the remainder when asked)
        uint256 cost;
        uint256 filled; // Wh filled before this entry
        uint256 have;
        uint256 need;
        address recovered; // signer when not the seller: BadSignature, or the seller's agent (then Ok or MandateRefused)
    }

    /// @dev What fillMany has done so far.
    struct Tally {
        uint256 filled;
        uint256 totalWh;
        uint256 totalCost;
        uint256 skipped;
        bytes32 firstHash; // first skipped offer and why
        Check firstReason;
    }

    IERC20 private immutable _energy;
    IERC20 private immutable _money;
    uint256 private immutable _minFill;
    bytes32 private immutable _cachedDomain;
    uint256 private immutable _cachedChainId;
    address private immutable _deployer; // may set the mandate, once

    mapping(address seller => mapping(uint256 salt => uint256 lane)) private _lanes;
    mapping(address seller => uint256) private _counters;
    ITradingMandate private _mandate;

    /// @param energy_ The energy token (Wh).
    /// @param money_ The settlement token.
    /// @param minFillWh_ Smallest fill in Wh (the order book's minimum order size at deployment).
    constructor(IERC20 energy_, IERC20 money_, uint256 minFillWh_) {
        if (address(energy_) == address(0) || address(money_) == address(0) || minFillWh_ == 0) {
            revert OfferSettlementInvalidParameter();
        }
        _energy = energy_;
        _money = money_;
        _minFill = minFillWh_;
        _cachedChainId = block.chainid;
        _cachedDomain = OfferLib.domainSeparator(address(this));
        _deployer = msg.sender;
    }

    /// @inheritdoc IMandatedVenue
    /// @dev Only the deployer (OfferSettlementNotDeployer); once, and never to zero (VenueMandateFixed).
    function setMandate(address mandate_) external {
        if (msg.sender != _deployer) revert OfferSettlementNotDeployer(msg.sender);
        if (mandate_ == address(0) || address(_mandate) != address(0)) revert VenueMandateFixed(address(_mandate));
        _mandate = ITradingMandate(mandate_);
        emit MandateSet(mandate_);
    }

    // ------------------------------------------------------------------ trading
    /// @inheritdoc IOfferSettlement
    function fill(Offer calldata offer, bytes calldata signature, uint256 amountWh)
        external
        returns (uint256 cost)
    {
        Verdict memory v = _evaluate(offer, signature, msg.sender, amountWh, false);
        if (v.result != Check.Ok) _retryAsAgent(offer, v, msg.sender, false, true);
        _settle(offer, v, msg.sender);
        return v.cost;
    }

    /// @inheritdoc IOfferSettlement
    function fillFor(address buyer, Offer calldata offer, bytes calldata signature, uint256 amountWh)
        external
        returns (uint256 cost)
    {
        ITradingMandate m = _mandate;
        if (address(m) == address(0)) revert VenueMandateNotSet();
        Verdict memory v = _evaluate(offer, signature, buyer, amountWh, false);
        if (v.result != Check.Ok) _retryAsAgent(offer, v, buyer, false, true);
        m.authorize(buyer, msg.sender, VENUE, Side.Buy, offer.price, v.amount, v.cost);
        _settle(offer, v, buyer);
        return v.cost;
    }

    /// @inheritdoc IOfferSettlement
    function fillMany(Fill[] calldata fills, bool skipGone, uint256 maxFills)
        external
        returns (uint256 filled, uint256 totalWh, uint256 totalCost)
    {
        uint256 n = fills.length;
        if (n == 0 || n > MAX_FILLS || maxFills == 0) revert OfferSettlementBadBatch(n, maxFills, MAX_FILLS);
        Tally memory t;
        for (uint256 i; i < n && t.filled < maxFills; ++i) {
            _fillEntry(fills[i], skipGone, t);
        }
        if (t.filled == 0) revert OfferSettlementNothingFilled(t.skipped, t.firstHash, t.firstReason);
        return (t.filled, t.totalWh, t.totalCost);
    }

    /// @inheritdoc IOfferSettlement
    function cancel(Offer calldata offer) external {
        bytes32 h = _hash(offer);
        if (msg.sender != offer.seller) revert OfferSettlementNotSeller(h, msg.sender);
        State memory s = _state(offer, h);
        if (s.heldUntil != 0) revert OfferSettlementSaltInUse(h, offer.seller, offer.salt, s.heldUntil);
        if (s.cancelled) revert OfferSettlementAlreadyCancelled(h);
        _write(offer, h, s.filled, true);
        emit OfferCancelled(h, msg.sender);
    }

    /// @inheritdoc IOfferSettlement
    function incrementCounter() external returns (uint256 newCounter) {
        // As Seaport: jump by the upper half of the previous block hash (plus one, so it always moves); 2^128
        // increments would be needed to overflow.
        newCounter = _counters[msg.sender] + 1 + (uint256(blockhash(block.number - 1)) >> 128);
        _counters[msg.sender] = newCounter;
        emit CounterIncremented(msg.sender, newCounter);
    }

    // ------------------------------------------------------------------ views
    /// @inheritdoc IOfferSettlement
    function hashOffer(Offer calldata offer) external view returns (bytes32) {
        return _hash(offer);
    }

    /// @inheritdoc IOfferSettlement
    function check(Offer calldata offer, bytes calldata signature, address buyer, uint256 amountWh)
        external
        view
        returns (Check result, uint256 have, uint256 need)
    {
        Verdict memory v = _evaluate(offer, signature, buyer, amountWh, false);
        if (v.result == Check.BadSignature) _agentTerms(offer, v, buyer, false);
        return (v.result, v.have, v.need);
    }

    /// @inheritdoc IOfferSettlement
    function offerStates(Offer[] calldata offers) external view returns (OfferState[] memory states) {
        uint256 n = offers.length < MAX_STATES ? offers.length : MAX_STATES;
        states = new OfferState[](n);
        for (uint256 i; i < n; ++i) {
            Offer calldata o = offers[i];
            bytes32 h = _hash(o);
            State memory s = _state(o, h);
            Check status = _validity(o, s);
            if (status == Check.Ok && s.filled >= o.amountWh) status = Check.Filled;
            uint256 remaining = status == Check.Ok ? o.amountWh - s.filled : 0;
            states[i] = OfferState(h, s.filled, remaining, s.cancelled, status);
        }
    }

    /// @inheritdoc IOfferSettlement
    function filledWh(Offer calldata offer) external view returns (uint256) {
        return _state(offer, _hash(offer)).filled;
    }

    /// @inheritdoc IOfferSettlement
    function isCancelled(Offer calldata offer) external view returns (bool) {
        return _state(offer, _hash(offer)).cancelled;
    }

    /// @inheritdoc IOfferSettlement
    function laneOf(address seller, uint256 salt)
        external
        view
        returns (bytes32 fingerprint, uint256 validUntil, uint256 filled, bool cancelled)
    {
        uint256 lane = _lanes[seller][salt];
        return (bytes32(lane & PRINT_MASK), uint64(lane >> UNTIL_SHIFT), uint64(lane), lane & CANCELLED_BIT != 0);
    }

    /// @inheritdoc IOfferSettlement
    function counterOf(address seller) external view returns (uint256) {
        return _counters[seller];
    }

    /// @inheritdoc IOfferSettlement
    function minFillWh() external view returns (uint256) {
        return _minFill;
    }

    /// @inheritdoc IOfferSettlement
    function maxFillsCap() external pure returns (uint256) {
        return MAX_FILLS;
    }

    /// @inheritdoc IOfferSettlement
    function maxStatesCap() external pure returns (uint256) {
        return MAX_STATES;
    }

    /// @inheritdoc IOfferSettlement
    function offerTypehash() external pure returns (bytes32) {
        return OfferLib.OFFER_TYPEHASH;
    }

    /// @inheritdoc IOfferSettlement
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @notice The EIP-712 domain (ERC-5267), for wallets that build the typed data themselves.
    /// @return fields 0x0f: name, version, chainId and verifyingContract are set.
    /// @return name "EnergyOfferSettlement".
    /// @return version "1".
    /// @return chainId This chain.
    /// @return verifyingContract This contract.
    /// @return salt Unused (0).
    /// @return extensions None.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", OfferLib.NAME, OfferLib.VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc IMandatedVenue
    function mandate() external view returns (address) {
        return address(_mandate);
    }

    /// @inheritdoc IOfferSettlement
    function energyToken() external view returns (address) {
        return address(_energy);
    }

    /// @inheritdoc IOfferSettlement
    function settlementToken() external view returns (address) {
        return address(_money);
    }

    // ------------------------------------------------------------------ internals
    function _domainSeparator() private view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomain : OfferLib.domainSeparator(address(this));
    }

    function _hash(Offer calldata o) private view returns (bytes32) {
        return OfferLib.typedDataHash(_domainSeparator(), OfferLib.structHash(o));
    }

    /// @dev The fill state of offer `o` (hash `h`) from its (seller, salt) lane: its own record when the lane's
    ///      fingerprint is this offer's; nothing filled when the lane is empty or its offer has expired (that offer
    ///      can never fill again, so the lane is free); else the lane is held by another live offer.
    function _state(Offer calldata o, bytes32 h) private view returns (State memory s) {
        uint256 lane = _lanes[o.seller][o.salt];
        if (lane & PRINT_MASK == uint256(h) & PRINT_MASK) {
            s.filled = uint64(lane);
            s.cancelled = lane & CANCELLED_BIT != 0;
        } else {
            uint256 until = uint64(lane >> UNTIL_SHIFT);
            if (until > block.timestamp) s.heldUntil = until;
        }
    }

    /// @dev Records `filled` Wh (<= o.amountWh < 2^64) and the cancelled flag of offer `o` in its lane.
    function _write(Offer calldata o, bytes32 h, uint256 filled, bool cancelled) private {
        _lanes[o.seller][o.salt] = (uint256(h) & PRINT_MASK) | (cancelled ? CANCELLED_BIT : 0)
            | (uint256(o.validUntil) << UNTIL_SHIFT) | filled;
    }

    /// @dev Cancelled, voided (stale counter), not yet valid, expired, or its salt's lane held by another live offer:
    ///      Ok when none applies.
    function _validity(Offer calldata o, State memory s) private view returns (Check) {
        if (s.cancelled) return Check.Cancelled;
        if (o.counter != _counters[o.seller]) return Check.Voided;
        if (block.timestamp < o.validFrom) return Check.NotYetValid;
        if (block.timestamp >= o.validUntil) return Check.Expired;
        if (s.heldUntil != 0) return Check.SaltInUse;
        return Check.Ok;
    }

    /// @dev Every check of one fill, in the documented order; nothing is written. With `clamp`, a request above
    ///      the remainder is cut to the remainder (fillMany with skipGone) instead of failing.
    function _evaluate(Offer calldata o, bytes calldata sig, address buyer, uint256 amount, bool clamp)
        private
        view
        returns (Verdict memory v)
    {
        v.offerHash = _hash(o);
        v.amount = amount;
        if (amount == 0) return _fail(v, Check.ZeroAmount);
        if (buyer == o.seller) return _fail(v, Check.SelfFill);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(v.offerHash, sig);
        if (err != ECDSA.RecoverError.NoError || signer != o.seller) {
            v.recovered = signer;
            return _fail(v, Check.BadSignature);
        }
        State memory s = _state(o, v.offerHash);
        v.filled = s.filled;
        Check validity = _validity(o, s);
        if (validity != Check.Ok) {
            if (validity == Check.SaltInUse) v.need = s.heldUntil; // when the lane frees
            return _fail(v, validity);
        }
        if (s.filled >= o.amountWh) return _fail(v, Check.Filled);
        uint256 remaining = o.amountWh - s.filled;
        if (amount > remaining) {
            if (!clamp) {
                (v.have, v.need) = (remaining, amount);
                return _fail(v, Check.ExceedsRemaining);
            }
            v.amount = amount = remaining;
        }
        if (amount < _minFill && amount != remaining) return _fail(v, Check.BelowMinimum);
        v.cost = OfferLib.cost(o.price, amount);
        if (v.cost == 0) return _fail(v, Check.ZeroCost);
        (v.result, v.have, v.need) = OfferLib.funding(_energy, _money, address(this), o.seller, buyer, amount, v.cost);
    }

    /// @dev The checks after the signature's (validity, remainder, minimum, cost, funding) into `v`.
    function _terms(Offer calldata o, address buyer, bool clamp, Verdict memory v) private view {
        uint256 amount = v.amount;
        State memory s = _state(o, v.offerHash);
        v.filled = s.filled;
        Check validity = _validity(o, s);
        if (validity != Check.Ok) {
            if (validity == Check.SaltInUse) v.need = s.heldUntil; // when the lane frees
            return _failed(v, validity);
        }
        if (s.filled >= o.amountWh) return _failed(v, Check.Filled);
        uint256 remaining = o.amountWh - s.filled;
        if (amount > remaining) {
            if (!clamp) {
                (v.have, v.need) = (remaining, amount);
                return _failed(v, Check.ExceedsRemaining);
            }
            v.amount = amount = remaining;
        }
        if (amount < _minFill && amount != remaining) return _failed(v, Check.BelowMinimum);
        v.cost = OfferLib.cost(o.price, amount);
        if (v.cost == 0) return _failed(v, Check.ZeroCost);
        (v.result, v.have, v.need) = OfferLib.funding(_energy, _money, address(this), o.seller, buyer, amount, v.cost);
    }

    function _fail(Verdict memory v, Check result) private pure returns (Verdict memory) {
        v.result = result;
        return v;
    }

    function _failed(Verdict memory v, Check result) private pure {
        v.result = result;
    }

    /// @dev A signature that is not the seller's (`v` says BadSignature) may be its mandated agent's: then the
    ///      remaining checks run for it, and the seller's bounds (OfferLib.sellAllowed: MandateRefused when they
    ///      refuse). Returns whether it was the agent's.
    function _agentTerms(Offer calldata o, Verdict memory v, address buyer, bool clamp) private view returns (bool) {
        address agent = v.recovered;
        if (agent == address(0) || !OfferLib.isAgentOf(_mandate, o.seller, agent)) return false;
        v.result = Check.Ok;
        _terms(o, buyer, clamp, v);
        if (v.result == Check.Ok && !OfferLib.sellAllowed(_mandate, _energy, o.seller, o.price, v.amount, VENUE)) {
            v.result = Check.MandateRefused;
        }
        return true;
    }

    /// @dev After a failed check: an offer its seller's agent signed gets its own checks and, when they pass, the
    ///      mandate's authorize (it emits MandateUsed; a refusal reverts with its Mandate* error when `strict`).
    ///      Anything else still failing reverts when `strict`, else stays in `v` (fillMany's skips).
    function _retryAsAgent(Offer calldata o, Verdict memory v, address buyer, bool clamp, bool strict) private {
        if (v.result == Check.BadSignature && _agentTerms(o, v, buyer, clamp)) {
            if (v.result == Check.Ok) {
                _mandate.authorize(o.seller, v.recovered, VENUE, Side.Sell, o.price, v.amount, 0);
                return;
            }
            if (v.result == Check.MandateRefused && strict) {
                _mandate.authorize(o.seller, v.recovered, VENUE, Side.Sell, o.price, v.amount, 0); // named error
            }
        }
        if (strict) _revert(o, v, buyer);
    }

    /// @dev Effects, then interactions: the fill is recorded before any token moves.
    function _settle(Offer calldata o, Verdict memory v, address buyer) private {
        _write(o, v.offerHash, v.filled + v.amount, false); // <= o.amountWh < 2^64: checked above
        emit OfferFilled(v.offerHash, o.seller, buyer, v.amount, o.price, v.cost);
        _energy.safeTransferFrom(o.seller, buyer, v.amount);
        _money.safeTransferFrom(buyer, o.seller, v.cost);
    }

    /// @dev One fillMany entry: settle it, skip it (gone or short, with skipGone) or revert.
    function _fillEntry(Fill calldata f, bool skipGone, Tally memory t) private {
        Verdict memory v = _evaluate(f.offer, f.signature, msg.sender, f.amountWh, skipGone);
        if (v.result != Check.Ok) _retryAsAgent(f.offer, v, msg.sender, skipGone, !skipGone);
        if (v.result != Check.Ok) {
            if (!skipGone || !OfferLib.isGone(v.result)) _revert(f.offer, v, msg.sender);
            emit OfferSkipped(v.offerHash, f.offer.seller, msg.sender, f.amountWh, v.result);
            if (t.skipped++ == 0) (t.firstHash, t.firstReason) = (v.offerHash, v.result);
            return;
        }
        _settle(f.offer, v, msg.sender);
        ++t.filled;
        t.totalWh += v.amount;
        t.totalCost += v.cost;
    }

    /// @dev The named error of a failed check, with its data.
    function _revert(Offer calldata o, Verdict memory v, address buyer) private view {
        bytes32 h = v.offerHash;
        Check r = v.result;
        if (r == Check.ZeroAmount) revert OfferSettlementZeroAmount(h);
        if (r == Check.SelfFill) revert OfferSettlementSelfFill(h, buyer);
        if (r == Check.BadSignature) revert OfferSettlementBadSignature(h, o.seller, v.recovered);
        if (r == Check.SaltInUse) revert OfferSettlementSaltInUse(h, o.seller, o.salt, v.need);
        if (r == Check.Cancelled) revert OfferSettlementCancelled(h);
        if (r == Check.Voided) revert OfferSettlementVoided(h, o.counter, _counters[o.seller]);
        if (r == Check.NotYetValid) revert OfferSettlementNotYetValid(h, o.validFrom, block.timestamp);
        if (r == Check.Expired) revert OfferSettlementExpired(h, o.validUntil, block.timestamp);
        if (r == Check.Filled) revert OfferSettlementFilled(h, o.amountWh);
        if (r == Check.ExceedsRemaining) revert OfferSettlementExceedsRemaining(h, v.need, v.have);
        if (r == Check.BelowMinimum) revert OfferSettlementBelowMinimum(h, v.amount, _minFill);
        if (r == Check.ZeroCost) revert OfferSettlementZeroCost(h, o.price, v.amount);
        if (r == Check.SellerBalanceShort) revert OfferSettlementSellerBalanceShort(h, o.seller, v.have, v.need);
        if (r == Check.SellerAllowanceShort) revert OfferSettlementSellerAllowanceShort(h, o.seller, v.have, v.need);
        if (r == Check.MandateRefused) revert OfferSettlementMandateRefused(h, o.seller, v.recovered);
        if (r == Check.BuyerBalanceShort) revert OfferSettlementBuyerBalanceShort(h, buyer, v.have, v.need);
        revert OfferSettlementBuyerAllowanceShort(h, buyer, v.have, v.need);
    }
}
