//! Who validates: sessions, the validator set and the pay of block authors.
//!
//! - `pallet-session` rotates the Aura and GRANDPA authority sets at session boundaries, from the
//!   session keys each validator set with `session.set_keys`.
//! - `pallet-collator-selection` decides the set: the invulnerables (set at genesis and by root)
//!   and the candidates with the highest bonds (at least [`CANDIDACY_BOND`], with
//!   `register_as_candidate`), fewer than half as many as the invulnerables
//!   ([`desired_candidates`]); a candidate that authors no block for [`KickThreshold`] is removed
//!   and its bond returned.
//! - `pallet-authorship` reports each block's author, whom collator selection pays half its pot:
//!   every transaction fee and tip goes to that pot ([`FeesToValidatorPot`]).

use frame_support::{
	parameter_types,
	traits::{
		fungible::{Balanced, Credit},
		ConstU32, Get, OnUnbalanced,
	},
	PalletId,
};
use frame_system::EnsureRoot;
use sp_runtime::traits::OpaqueKeys;

use crate::{
	AccountId, Aura, Balance, Balances, BlockNumber, CollatorSelection, Runtime, RuntimeEvent,
	Session, SessionKeys, DAYS, MINUTES, UNIT,
};

/// Bond of a validator candidate, held (reserved) while it is a candidate. Root may change it
/// (`collator_selection.set_candidacy_bond`); this is its genesis value.
pub const CANDIDACY_BOND: Balance = 10_000 * UNIT;

/// Most candidates on the candidate list. Of them, the `desired_candidates` with the highest
/// bonds validate (see [`desired_candidates`]); the others wait and may outbid them, but author
/// nothing meanwhile, so they too are removed once past [`KickThreshold`].
pub const MAX_CANDIDATES: u32 = 16;

/// How many candidates validate beside `invulnerables` invulnerable validators: fewer than half
/// as many, so that the invulnerables keep more than two thirds of GRANDPA's votes and
/// colluding candidates alone can neither finalise nor stall finality by not voting (nothing
/// slashes them for it: see `docs/running-a-node.md`). That uses up GRANDPA's tolerance: silent
/// candidates plus one invulnerable down do stall it. The development chain's single
/// invulnerable admits one candidate, to try the flow, whose vote finality then waits for. The
/// genesis presets set it; root may change it (`collator_selection.set_desired_candidates`).
pub fn desired_candidates(invulnerables: usize) -> u32 {
	let fewer_than_half = if invulnerables == 1 { 1 } else { invulnerables.saturating_sub(1) / 2 };
	u32::try_from(fewer_than_half).unwrap_or(MAX_CANDIDATES).min(MAX_CANDIDATES)
}

/// Deposit held for a validator's session keys while they are set.
pub const SESSION_KEY_DEPOSIT: Balance = 2 * UNIT;

/// The shortest session, whatever `SessionLength` is set to: a session of zero blocks would
/// never end (and divide by zero).
pub const MIN_SESSION_LENGTH: BlockNumber = 10;

/// The longest session, whatever `SessionLength` is set to: longer ones would freeze the
/// validator set (and overflow block arithmetic).
pub const MAX_SESSION_LENGTH: BlockNumber = DAYS;

/// The shortest time a candidate may author nothing before it is removed, however short
/// sessions are: ten minutes, many rounds of Aura slots of the largest set.
pub const MIN_KICK_THRESHOLD: BlockNumber = 10 * MINUTES;

parameter_types! {
	/// Blocks per session: validator set changes take effect at session boundaries. Kept in
	/// storage (key `twox128(":SessionLength:")`) so that root can shorten sessions on a test
	/// network with `system.set_storage`; read within [`MIN_SESSION_LENGTH`] and
	/// [`MAX_SESSION_LENGTH`].
	pub storage SessionLength: BlockNumber = 10 * MINUTES;
	pub const PotId: PalletId = PalletId(*b"ac/valpt");
}

/// [`SessionLength`], within [`MIN_SESSION_LENGTH`] and [`MAX_SESSION_LENGTH`] blocks.
pub struct SessionPeriod;
impl Get<BlockNumber> for SessionPeriod {
	fn get() -> BlockNumber {
		SessionLength::get().clamp(MIN_SESSION_LENGTH, MAX_SESSION_LENGTH)
	}
}

/// A candidate that authored no block for two sessions, and at least [`MIN_KICK_THRESHOLD`], is
/// removed from the candidates (a new candidate has as long again to start).
pub struct KickThreshold;
impl Get<BlockNumber> for KickThreshold {
	fn get() -> BlockNumber {
		SessionPeriod::get().saturating_mul(2).max(MIN_KICK_THRESHOLD)
	}
}

/// Sessions of [`SessionPeriod`] blocks, the first one starting at genesis.
pub type Sessions = pallet_session::PeriodicSessions<SessionPeriod, ConstU32<0>>;

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = pallet_collator_selection::IdentityCollator;
	type ShouldEndSession = Sessions;
	type NextSessionRotation = Sessions;
	type SessionManager = CollatorSelection;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	/// Nothing disables a validator within a session: no offence is reported (see
	/// `docs/running-a-node.md`).
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = frame_support::traits::ConstU128<SESSION_KEY_DEPOSIT>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Aura>;
	type EventHandler = CollatorSelection;
}

impl pallet_collator_selection::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type UpdateOrigin = EnsureRoot<AccountId>;
	type PotId = PotId;
	/// Candidates beyond the invulnerables; with them at most `MaxAuthorities`.
	type MaxCandidates = ConstU32<MAX_CANDIDATES>;
	type MinEligibleCollators = ConstU32<1>;
	type MaxInvulnerables = ConstU32<8>;
	type KickThreshold = KickThreshold;
	type ValidatorId = AccountId;
	type ValidatorIdOf = pallet_collator_selection::IdentityCollator;
	type ValidatorRegistration = Session;
	type WeightInfo = pallet_collator_selection::weights::SubstrateWeight<Runtime>;
}

/// Sends every transaction fee and tip to the validators' pot, from which each block's author
/// is paid half of what it holds above the existential deposit (`pallet_collator_selection`'s
/// `note_author`).
pub struct FeesToValidatorPot;
impl OnUnbalanced<Credit<AccountId, Balances>> for FeesToValidatorPot {
	// A fee and its tip come merged, through the default `on_unbalanceds`.
	fn on_nonzero_unbalanced(amount: Credit<AccountId, Balances>) {
		let pot = CollatorSelection::account_id();
		// Depositing into an existing account cannot fail; were the pot ever reaped, the
		// fee below the existential deposit is burnt rather than lost silently.
		if let Err(unpaid) = <Balances as Balanced<AccountId>>::resolve(&pot, amount) {
			frame_support::defensive!("the validator pot refused a fee");
			drop(unpaid);
		}
	}
}
