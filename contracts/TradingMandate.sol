// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ITradingMandate} from "../interfaces/ITradingMandate.sol";
import {Side} from "../interfaces/MarketTypes.sol";
import {MandateLib} from "./libraries/MandateLib.sol";
import {OfferLib} from "./libraries/OfferLib.sol";

/// @title TradingMandate: per-owner bounds of one automatic-trading agent, enforced when a venue trades for the owner
/// @notice See ITradingMandate. The agent never holds the owner's key: the owner approves the venues on its tokens as
///         for its own trading, and the venues' "for owner" entry points ask `authorize` before moving anything.
/// @dev Storage per owner: four words (agent, validity, venues | two prices | reserve, cap | weights, spend day,
///      spend). The day's spend survives a revoke or a new grant on the same day (a re-grant cannot reset the cap).
///      Owners per agent are kept in an array with swap-and-pop removal (O(1) per grant and revoke) and read in pages.
///      No loop depends on the number of owners, agents or orders.
contract TradingMandate is ITradingMandate, AccessControl {
    uint256 private constant DAY = 86_400;
    uint8 private constant ALL_VENUES = 7;

    struct Stored {
        address agent; // 0: no mandate
        uint64 validUntil;
        uint8 venues;
        uint128 minSellPrice;
        uint128 maxBuyPrice;
        uint128 reserveWh;
        uint128 dailySpendCap;
        uint48 weights;
        uint64 day; // the community day `spent` belongs to
        uint128 spent;
    }

    IERC20 private immutable _energy;
    uint256 private immutable _dayOffset;
    bytes32 private immutable _cachedDomain;
    uint256 private immutable _cachedChainId;

    mapping(address owner => Stored) private _mandates;
    mapping(address owner => uint256) private _nonces;
    mapping(address venue => uint8 bit) private _venues;
    mapping(address agent => address[] owners) private _owners;
    mapping(address owner => uint256 position) private _positionOf; // 1-based position in _owners[agent]

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (registers venues).
    /// @param energy_ The energy token (the reserve is checked against the owner's balance of it).
    /// @param dayOffset_ Seconds added to block.timestamp before dividing into days (< 86400; +8 h = 28800).
    /// @param venues_ Venue contracts registered at deployment.
    /// @param bits_ Their venue bits (1 order book, 2 auction, 4 direct).
    constructor(address admin, IERC20 energy_, uint256 dayOffset_, address[] memory venues_, uint8[] memory bits_) {
        if (admin == address(0) || address(energy_) == address(0) || dayOffset_ >= DAY) {
            revert MandateInvalidParameter();
        }
        if (venues_.length != bits_.length || venues_.length > 8) revert MandateInvalidParameter();
        _energy = energy_;
        _dayOffset = dayOffset_;
        _cachedChainId = block.chainid;
        _cachedDomain = MandateLib.domainSeparator(address(this));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i; i < venues_.length; ++i) {
            _setVenue(venues_[i], bits_[i]);
        }
    }

    // ------------------------------------------------------------------ owner
    /// @inheritdoc ITradingMandate
    function grant(Terms calldata terms) external {
        _grant(msg.sender, terms);
    }

    /// @inheritdoc ITradingMandate
    function grantBySig(address owner, Terms calldata terms, uint256 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert MandateSignatureExpired(deadline, block.timestamp);
        uint256 nonce = _nonces[owner];
        bytes32 digest = OfferLib.typedDataHash(_domainSeparator(), MandateLib.structHash(owner, terms, nonce, deadline));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != owner || owner == address(0)) {
            revert MandateBadSignature(owner, signer);
        }
        _nonces[owner] = nonce + 1;
        _grant(owner, terms);
    }

    /// @inheritdoc ITradingMandate
    function revoke() external {
        Stored storage s = _mandates[msg.sender];
        address agent = s.agent;
        if (agent == address(0)) revert MandateMissing(msg.sender);
        _removeOwner(agent, msg.sender);
        s.agent = address(0);
        emit MandateRevoked(msg.sender, agent);
    }

    // ------------------------------------------------------------------ venues
    /// @inheritdoc ITradingMandate
    function authorize(
        address owner,
        address agent,
        uint8 venue,
        Side side,
        uint256 price,
        uint256 amountWh,
        uint256 cost
    ) external {
        if (venue == 0 || _venues[msg.sender] != venue) revert MandateNotVenue(msg.sender, venue);
        Stored storage s = _mandates[owner];
        _checkAgent(s, owner, agent, venue);
        uint256 spentToday_;
        if (side == Side.Sell) {
            if (price < s.minSellPrice) revert MandatePriceBelowMinimum(price, s.minSellPrice);
            uint256 balance = _energy.balanceOf(owner);
            uint256 reserve = s.reserveWh;
            if (balance < amountWh || balance - amountWh < reserve) {
                revert MandateReserveBreached(balance, amountWh, reserve);
            }
            cost = 0;
            spentToday_ = _spentToday(s);
        } else {
            if (price > s.maxBuyPrice) revert MandatePriceAboveMaximum(price, s.maxBuyPrice);
            uint256 spent = _spentToday(s);
            uint256 cap = s.dailySpendCap;
            if (cost > cap || spent > cap - cost) revert MandateDailyCapExceeded(spent, cost, cap);
            spentToday_ = spent + cost; // <= cap < 2^128
            (s.day, s.spent) = (uint64(_today()), uint128(spentToday_));
        }
        emit MandateUsed(owner, agent, venue, side, price, amountWh, cost, spentToday_);
    }

    /// @inheritdoc ITradingMandate
    function requireAgent(address owner, address agent, uint8 venue) external view {
        _checkAgent(_mandates[owner], owner, agent, venue);
    }

    // ------------------------------------------------------------------ admin
    /// @inheritdoc ITradingMandate
    function setVenue(address venue, uint8 bit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setVenue(venue, bit);
    }

    // ------------------------------------------------------------------ views
    /// @inheritdoc ITradingMandate
    function termsOf(address owner) external view returns (Terms memory t) {
        Stored storage s = _mandates[owner];
        if (s.agent == address(0)) return t;
        t = Terms(
            s.agent,
            s.minSellPrice,
            s.maxBuyPrice,
            s.reserveWh,
            s.dailySpendCap,
            s.venues,
            MandateLib.unpack(s.weights),
            s.validUntil
        );
    }

    /// @inheritdoc ITradingMandate
    function isLive(address owner) external view returns (bool) {
        Stored storage s = _mandates[owner];
        return s.agent != address(0) && (s.validUntil == 0 || block.timestamp < s.validUntil);
    }

    /// @inheritdoc ITradingMandate
    function spentToday(address owner) external view returns (uint256) {
        return _spentToday(_mandates[owner]);
    }

    /// @inheritdoc ITradingMandate
    function today() external view returns (uint256) {
        return _today();
    }

    /// @inheritdoc ITradingMandate
    function dayOffset() external view returns (uint256) {
        return _dayOffset;
    }

    /// @inheritdoc ITradingMandate
    function nonces(address owner) external view returns (uint256) {
        return _nonces[owner];
    }

    /// @inheritdoc ITradingMandate
    function venueOf(address venue) external view returns (uint8) {
        return _venues[venue];
    }

    /// @inheritdoc ITradingMandate
    function ownerCount(address agent) external view returns (uint256) {
        return _owners[agent].length;
    }

    /// @inheritdoc ITradingMandate
    function ownersOf(address agent, uint256 start, uint256 limit) external view returns (address[] memory owners) {
        address[] storage all = _owners[agent];
        uint256 end = start + limit < all.length ? start + limit : all.length;
        owners = new address[](end > start ? end - start : 0);
        for (uint256 i = start; i < end; ++i) {
            owners[i - start] = all[i];
        }
    }

    /// @inheritdoc ITradingMandate
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc ITradingMandate
    function mandateTypehash() external pure returns (bytes32) {
        return MandateLib.MANDATE_TYPEHASH;
    }

    /// @inheritdoc ITradingMandate
    function grantDigest(address owner, Terms calldata terms, uint256 deadline) external view returns (bytes32) {
        return OfferLib.typedDataHash(_domainSeparator(), MandateLib.structHash(owner, terms, _nonces[owner], deadline));
    }

    /// @inheritdoc ITradingMandate
    function energyToken() external view returns (address) {
        return address(_energy);
    }

    // ------------------------------------------------------------------ internals
    function _grant(address owner, Terms calldata t) private {
        if (t.agent == address(0) || t.agent == owner) revert MandateInvalidAgent(t.agent);
        if (t.venues == 0 || t.venues > ALL_VENUES) revert MandateInvalidVenues(t.venues);
        if (t.validUntil != 0 && t.validUntil <= block.timestamp) revert MandateInvalidValidity(t.validUntil);
        Stored storage s = _mandates[owner];
        address previous = s.agent;
        if (previous != t.agent) {
            if (previous != address(0)) {
                _removeOwner(previous, owner);
                emit MandateRevoked(owner, previous);
            }
            _owners[t.agent].push(owner);
            _positionOf[owner] = _owners[t.agent].length;
        }
        (s.agent, s.validUntil, s.venues) = (t.agent, t.validUntil, t.venues);
        (s.minSellPrice, s.maxBuyPrice) = (t.minSellPrice, t.maxBuyPrice);
        (s.reserveWh, s.dailySpendCap) = (t.reserveWh, t.dailySpendCap);
        s.weights = MandateLib.pack(t.weights); // day and spent are kept: a re-grant does not reset today's spend
        emit MandateGranted(owner, t.agent, t);
    }

    /// @dev Swap-and-pop `owner` out of `agent`'s owner list.
    function _removeOwner(address agent, address owner) private {
        address[] storage list = _owners[agent];
        uint256 position = _positionOf[owner];
        address last = list[list.length - 1];
        list[position - 1] = last;
        _positionOf[last] = position;
        list.pop();
        delete _positionOf[owner];
    }

    function _checkAgent(Stored storage s, address owner, address agent, uint8 venue) private view {
        address mandated = s.agent;
        if (mandated == address(0)) revert MandateMissing(owner);
        if (mandated != agent) revert MandateWrongAgent(owner, agent);
        uint64 until = s.validUntil;
        if (until != 0 && block.timestamp >= until) revert MandateExpired(owner, until);
        if (s.venues & venue == 0) revert MandateVenueNotAllowed(owner, venue);
    }

    function _setVenue(address venue, uint8 bit) private {
        if (venue == address(0) || (bit != 0 && bit != 1 && bit != 2 && bit != 4)) revert MandateInvalidParameter();
        _venues[venue] = bit;
        emit VenueSet(venue, bit);
    }

    function _spentToday(Stored storage s) private view returns (uint256) {
        return s.day == _today() ? s.spent : 0;
    }

    function _today() private view returns (uint256) {
        return (block.timestamp + _dayOffset) / DAY;
    }

    function _domainSeparator() private view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomain : MandateLib.domainSeparator(address(this));
    }
}
