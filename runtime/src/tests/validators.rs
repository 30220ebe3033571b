//! The validator set: sessions, candidates joining and leaving, the pay of block authors.

use super::{account, with_preset};
use crate::{
	configs::{
		desired_candidates, FeesToValidatorPot, KickThreshold, SessionLength, SessionPeriod,
		CANDIDACY_BOND, MIN_KICK_THRESHOLD, MIN_SESSION_LENGTH, SESSION_KEY_DEPOSIT,
	},
	AccountId, AllPalletsWithSystem, Balances, CollatorSelection, Grandpa, Runtime, RuntimeOrigin,
	Session, SessionKeys, System, EXISTENTIAL_DEPOSIT, MINUTES, SLOT_DURATION, UNIT,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Balanced, Inspect},
		Get, OnUnbalanced,
	},
};
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie};
use sp_runtime::traits::Convert;

/// Runs blocks up to `n`, every hook of every pallet, each block authored by no one in
/// particular (the session and validator set do not depend on it).
pub(super) fn run_to_block(n: u32) {
	System::run_to_block_with::<AllPalletsWithSystem>(
		n,
		frame_system::RunToBlockHooks::default().before_finalize(|_| {
			// Each block sets its time, in the slot it was built in (no slot: slot 0).
			let slot: u64 = *pallet_aura::CurrentSlot::<Runtime>::get();
			pallet_timestamp::Pallet::<Runtime>::set_timestamp(slot * SLOT_DURATION);
		}),
	);
}

/// Runs to the first block of session `index`.
fn run_to_session(index: u32) {
	let period = SessionPeriod::get();
	run_to_block(index * period);
	assert_eq!(Session::current_index(), index);
}

/// Generates session keys for `who` in the test keystore and sets them, with their proof.
fn set_keys(who: Sr25519Keyring) -> SessionKeys {
	let owner = codec::Encode::encode(&account(who));
	let generated = SessionKeys::generate(&owner, None);
	assert_ok!(Session::set_keys(
		RuntimeOrigin::signed(account(who)),
		generated.keys.clone(),
		codec::Encode::encode(&generated.proof)
	));
	generated.keys
}

fn aura_authorities() -> Vec<sp_consensus_aura::sr25519::AuthorityId> {
	pallet_aura::Authorities::<Runtime>::get().into_inner()
}

#[test]
fn the_genesis_validators_are_invulnerable_and_their_keys_are_the_authorities() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		assert_eq!(Session::validators(), vec![account(Alice)]);
		assert_eq!(
			pallet_collator_selection::Invulnerables::<Runtime>::get().into_inner(),
			vec![account(Alice)]
		);
		assert_eq!(pallet_collator_selection::CandidacyBond::<Runtime>::get(), CANDIDACY_BOND);
		// One candidate beside the single invulnerable, to try the flow.
		assert_eq!(pallet_collator_selection::DesiredCandidates::<Runtime>::get(), 1);
		assert_eq!(aura_authorities(), vec![Alice.public().into()]);
		let grandpa: Vec<_> = Grandpa::grandpa_authorities().into_iter().map(|(k, _)| k).collect();
		assert_eq!(grandpa, vec![sp_keyring::Ed25519Keyring::Alice.public().into()]);
		// The pot that pays authors exists, holding the existential deposit.
		assert_eq!(Balances::balance(&CollatorSelection::account_id()), EXISTENTIAL_DEPOSIT);
	});
	with_preset(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET, || {
		let four: Vec<AccountId> =
			[Alice, Bob, Charlie, Sr25519Keyring::Dave].into_iter().map(account).collect();
		let mut validators = Session::validators();
		validators.sort();
		let mut expected = four.clone();
		expected.sort();
		assert_eq!(validators, expected);
		assert_eq!(aura_authorities().len(), 4);
		assert_eq!(Grandpa::grandpa_authorities().len(), 4);
		assert_eq!(pallet_collator_selection::DesiredCandidates::<Runtime>::get(), 1);
	});
}

/// Candidates never hold a third of GRANDPA's votes once there are two invulnerables or more:
/// colluding candidates alone can neither finalise nor stall finality by not voting. The
/// single-invulnerable development chain admits one.
#[test]
fn invulnerables_keep_more_than_two_thirds_of_the_votes() {
	assert_eq!(desired_candidates(1), 1);
	for invulnerables in 2..=8usize {
		let candidates = desired_candidates(invulnerables) as usize;
		assert!(3 * invulnerables > 2 * (invulnerables + candidates), "{invulnerables}");
	}
	// The largest set there can be fits Aura's and GRANDPA's bound.
	type C = <Runtime as pallet_collator_selection::Config>::MaxCandidates;
	type I = <Runtime as pallet_collator_selection::Config>::MaxInvulnerables;
	let largest = <C as Get<u32>>::get() + <I as Get<u32>>::get();
	assert!(largest <= <crate::configs::MaxAuthorities as Get<u32>>::get());
	assert_eq!(desired_candidates(2), 0);
	assert_eq!(desired_candidates(4), 1);
	assert_eq!(desired_candidates(7), 3);
}

#[test]
fn the_highest_bond_takes_the_seat_and_the_others_wait() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		SessionLength::set(&20);
		run_to_block(1);
		set_keys(Bob);
		set_keys(Charlie);
		assert_ok!(CollatorSelection::register_as_candidate(RuntimeOrigin::signed(account(Bob))));
		assert_ok!(CollatorSelection::register_as_candidate(RuntimeOrigin::signed(account(
			Charlie
		))));
		// Charlie outbids Bob for the one seat.
		assert_ok!(CollatorSelection::update_bond(
			RuntimeOrigin::signed(account(Charlie)),
			CANDIDACY_BOND + UNIT
		));
		run_to_session(2);
		assert_eq!(Session::validators(), vec![account(Alice), account(Charlie)]);
	});
}

#[test]
fn sessions_last_ten_minutes_and_root_may_shorten_them_to_no_less_than_ten_blocks() {
	// The storage key that `system.set_storage` writes, as the docs give it.
	assert_eq!(SessionLength::key(), sp_io::hashing::twox_128(b":SessionLength:"));
	sp_io::TestExternalities::default().execute_with(|| {
		assert_eq!(SessionPeriod::get(), 10 * MINUTES);
		SessionLength::set(&20);
		assert_eq!(SessionPeriod::get(), 20);
		// Zero would end no session, or divide by zero.
		SessionLength::set(&0);
		assert_eq!(SessionPeriod::get(), MIN_SESSION_LENGTH);
		// A day at most: longer would freeze the set and overflow block arithmetic.
		SessionLength::set(&u32::MAX);
		assert_eq!(SessionPeriod::get(), crate::DAYS);
		assert_eq!(KickThreshold::get(), 2 * crate::DAYS);
		// However short sessions are, a candidate has ten minutes before it is removed.
		SessionLength::set(&10);
		assert_eq!(KickThreshold::get(), MIN_KICK_THRESHOLD);
	});
}

#[test]
fn a_bonded_candidate_joins_the_authorities_two_sessions_on_and_leaves_the_same_way() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		SessionLength::set(&20);
		run_to_block(1);
		let bob = account(Bob);
		let free = Balances::balance(&bob);

		// Without session keys, no candidacy.
		assert_noop!(
			CollatorSelection::register_as_candidate(RuntimeOrigin::signed(bob.clone())),
			pallet_collator_selection::Error::<Runtime>::ValidatorNotRegistered
		);
		let keys = set_keys(Bob);
		assert_ok!(CollatorSelection::register_as_candidate(RuntimeOrigin::signed(bob.clone())));
		// The bond and the key deposit are held from Bob's free balance.
		assert_eq!(Balances::reserved_balance(&bob), CANDIDACY_BOND + SESSION_KEY_DEPOSIT);
		assert_eq!(Balances::balance(&bob), free - CANDIDACY_BOND - SESSION_KEY_DEPOSIT);

		// Chosen at the next session change, active from the one after.
		run_to_session(1);
		assert_eq!(Session::validators(), vec![account(Alice)]);
		assert!(Session::queued_keys().iter().any(|(who, _)| who == &bob));
		run_to_session(2);
		assert_eq!(Session::validators(), vec![account(Alice), bob.clone()]);
		assert!(aura_authorities().contains(&keys.aura));
		// GRANDPA takes the new set when the block that scheduled it is finalised.
		let pending = Grandpa::pending_change().expect("a GRANDPA set change is scheduled");
		assert!(pending.next_authorities.iter().any(|(key, _)| key == &keys.grandpa));

		// Leaving: out of the candidates at once, out of the authorities two sessions on, and
		// the bond returned.
		assert_ok!(CollatorSelection::leave_intent(RuntimeOrigin::signed(bob.clone())));
		assert_eq!(Balances::reserved_balance(&bob), SESSION_KEY_DEPOSIT);
		run_to_session(3);
		assert!(Session::validators().contains(&bob));
		run_to_session(4);
		assert_eq!(Session::validators(), vec![account(Alice)]);
		assert!(!aura_authorities().contains(&keys.aura));
	});
}

#[test]
fn a_candidate_that_authors_nothing_is_removed() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		SessionLength::set(&20);
		run_to_block(1);
		let charlie = account(Charlie);
		set_keys(Charlie);
		assert_ok!(CollatorSelection::register_as_candidate(RuntimeOrigin::signed(
			charlie.clone()
		)));
		// No block carries Charlie's Aura slot. The kick threshold is ten minutes here (200
		// blocks; two sessions of 20 would be shorter). A new candidate has the threshold to
		// start; idle for the threshold after that (past block 401), the next session change
		// removes it, bond returned.
		assert_eq!(KickThreshold::get(), MIN_KICK_THRESHOLD);
		run_to_session(20);
		assert!(pallet_collator_selection::CandidateList::<Runtime>::get()
			.iter()
			.any(|c| c.who == charlie));
		run_to_session(21);
		assert!(pallet_collator_selection::CandidateList::<Runtime>::get()
			.iter()
			.all(|c| c.who != charlie));
		assert_eq!(Balances::reserved_balance(&charlie), SESSION_KEY_DEPOSIT);
		// Out of the set from the session after; the invulnerable Alice stays, authoring or not.
		assert!(Session::validators().contains(&charlie));
		run_to_session(22);
		assert_eq!(Session::validators(), vec![account(Alice)]);
	});
}

#[test]
fn fees_and_tips_go_to_the_pot_and_each_author_takes_half_of_it() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		run_to_block(1);
		let pot = CollatorSelection::account_id();
		let fee = <Balances as Balanced<AccountId>>::issue(3 * UNIT);
		let tip = <Balances as Balanced<AccountId>>::issue(UNIT);
		let issuance = Balances::total_issuance();
		FeesToValidatorPot::on_unbalanceds([fee, tip].into_iter());
		assert_eq!(Balances::balance(&pot), EXISTENTIAL_DEPOSIT + 4 * UNIT);
		// Nothing created or burnt on the way.
		assert_eq!(Balances::total_issuance(), issuance);

		// The author of the next block, found from its Aura slot, takes half the pot.
		let alice = account(Alice);
		let before = Balances::balance(&alice);
		let slot = sp_consensus_aura::Slot::from(7u64);
		let digest = sp_runtime::Digest {
			logs: vec![sp_runtime::DigestItem::PreRuntime(
				sp_consensus_aura::AURA_ENGINE_ID,
				codec::Encode::encode(&slot),
			)],
		};
		System::reset_events();
		System::initialize(&2, &System::parent_hash(), &digest);
		<AllPalletsWithSystem as frame_support::traits::OnInitialize<u32>>::on_initialize(2);
		assert_eq!(pallet_authorship::Pallet::<Runtime>::author(), Some(alice.clone()));
		assert_eq!(Balances::balance(&alice), before + 2 * UNIT);
		assert_eq!(Balances::balance(&pot), EXISTENTIAL_DEPOSIT + 2 * UNIT);
	});
}

#[test]
fn root_alone_changes_the_invulnerables_and_the_bond() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		run_to_block(1);
		assert_noop!(
			CollatorSelection::set_candidacy_bond(RuntimeOrigin::signed(account(Alice)), 1),
			sp_runtime::DispatchError::BadOrigin
		);
		set_keys(Bob);
		assert_ok!(CollatorSelection::add_invulnerable(RuntimeOrigin::root(), account(Bob)));
		let mut expected = vec![account(Alice), account(Bob)];
		expected.sort();
		assert_eq!(
			pallet_collator_selection::Invulnerables::<Runtime>::get().into_inner(),
			expected
		);
		// Validator ids are the accounts themselves.
		assert_eq!(
			<crate::Runtime as pallet_session::Config>::ValidatorIdOf::convert(account(Bob)),
			Some(account(Bob))
		);
	});
}
