//! Unit tests of the agents pallet.

use crate::{mock::*, *};
// The pallet, not the storage map of the same name.
use crate::mock::Agents;
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect as _, InspectHold as _},
		Hooks,
	},
};
use sp_core::H256;
use sp_runtime::{traits::BadOrigin, DispatchError, TokenError};

fn model(n: u8) -> ModelId {
	H256::repeat_byte(n)
}

fn stake_held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::AgentStake.into(), &who)
}

fn deposit_held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::AgentDeposit.into(), &who)
}

fn register(who: u64, roles: Vec<Role>, models: Vec<ModelId>, stake: u64) -> DispatchResult {
	Agents::register(
		RuntimeOrigin::signed(who),
		b"agent".to_vec(),
		b"http://127.0.0.1:8080/v1".to_vec(),
		b"1.0".to_vec(),
		models,
		roles,
		stake,
	)
}

fn register_executor(who: u64, stake: u64) {
	assert_ok!(register(who, vec![Role::Executor], vec![model(1)], stake));
}

fn run_to_block(n: u64) {
	System::set_block_number(n);
}

fn info(who: u64) -> AgentInfo<Test> {
	crate::Registry::<Test>::get(who).expect("agent is registered")
}

fn candidates(role: Role, m: ModelId) -> Vec<u64> {
	Candidates::<Test>::get(role, m).into_iter().map(|seat| seat.agent).collect()
}

/// `owner` names `operator`, which accepts.
fn set_operator(owner: u64, operator: u64) {
	assert_ok!(Agents::set_operator(RuntimeOrigin::signed(owner), operator));
	assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(operator), owner));
}

#[test]
fn register_holds_stake_and_a_deposit_and_joins_candidate_sets() {
	run_test(|| {
		assert_ok!(register(
			1,
			vec![Role::Verifier, Role::Executor],
			vec![model(2), model(1)],
			500
		));

		let agent = info(1);
		assert_eq!(agent.stake, 500);
		assert_eq!(agent.roles.to_vec(), vec![Role::Executor, Role::Verifier]);
		assert_eq!(agent.models.to_vec(), vec![model(1), model(2)]);
		assert_eq!(agent.status, AgentStatus::Active);
		assert_eq!(agent.operator, None);
		assert_eq!(agent.last_seen, 1);
		assert_eq!(stake_held(1), 500);
		let footprint_bytes = (agent.metadata.encoded_size() + agent.models.encoded_size()) as u64;
		assert_eq!(deposit_held(1), DEPOSIT_BASE + footprint_bytes);
		assert_eq!(Balances::free_balance(1), 10_000 - 500 - deposit_held(1));
		for role in [Role::Executor, Role::Verifier] {
			assert_eq!(candidates(role, model(1)), vec![1]);
			assert_eq!(candidates(role, model(2)), vec![1]);
		}
		assert_eq!(AgentCount::<Test>::get(), 1);
		System::assert_last_event(
			Event::AgentRegistered { agent: 1, stake: 500, roles: agent.roles.clone(), models: 2 }
				.into(),
		);
	});
}

#[test]
fn curators_join_no_model_candidate_set() {
	run_test(|| {
		assert_ok!(register(1, vec![Role::Curator], vec![model(1)], MIN_CURATOR_STAKE));
		assert!(candidates(Role::Executor, model(1)).is_empty());
		assert!(Agents::is_active(&1, Role::Curator, None));
		assert!(!Agents::is_active(&1, Role::Executor, Some(&model(1))));
	});
}

#[test]
fn register_rejects_bad_input_and_changes_nothing() {
	run_test(|| {
		assert_noop!(register(1, vec![], vec![], 500), Error::<Test>::NoRoles);
		assert_noop!(
			register(1, vec![Role::Executor, Role::Executor], vec![], 500),
			Error::<Test>::DuplicateRole
		);
		assert_noop!(
			register(1, vec![Role::Executor], (1..=MAX_MODELS as u8 + 1).map(model).collect(), 500),
			Error::<Test>::TooManyModels
		);
		assert_noop!(
			register(1, vec![Role::Executor], vec![model(1), model(1)], 500),
			Error::<Test>::DuplicateModel
		);
		assert_noop!(
			Agents::register(
				RuntimeOrigin::signed(1),
				vec![b'n'; 17],
				vec![],
				vec![],
				vec![],
				vec![Role::Executor],
				500
			),
			Error::<Test>::NameTooLong
		);
		assert_noop!(
			Agents::register(
				RuntimeOrigin::signed(1),
				vec![],
				vec![b'e'; 33],
				vec![],
				vec![],
				vec![Role::Executor],
				500
			),
			Error::<Test>::EndpointTooLong
		);
		assert_noop!(
			Agents::register(
				RuntimeOrigin::signed(1),
				vec![],
				vec![],
				vec![b'v'; 9],
				vec![],
				vec![Role::Executor],
				500
			),
			Error::<Test>::VersionTooLong
		);
		// Executor and verifier: the verifier's larger minimum applies.
		assert_noop!(
			register(1, vec![Role::Executor, Role::Verifier], vec![], MIN_VERIFIER_STAKE - 1),
			Error::<Test>::InsufficientStake
		);
		assert_noop!(
			register(1, vec![Role::Executor], vec![], MIN_EXECUTOR_STAKE - 1),
			Error::<Test>::InsufficientStake
		);
		// More stake than the account can spend and stay alive.
		assert_noop!(
			register(1, vec![Role::Executor], vec![], 10_000),
			Error::<Test>::InsufficientBalance
		);
		// Account 10 has 150: the stake fits, the deposit does not.
		assert_noop!(
			register(10, vec![Role::Executor], vec![], 140),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Agents::register(
				RuntimeOrigin::root(),
				vec![],
				vec![],
				vec![],
				vec![],
				vec![Role::Executor],
				500
			),
			BadOrigin
		);

		register_executor(1, 500);
		assert_noop!(
			register(1, vec![Role::Executor], vec![], 500),
			Error::<Test>::AlreadyRegistered
		);
	});
}

#[test]
fn operator_keys_are_set_rotated_and_unique() {
	run_test(|| {
		register_executor(1, 500);
		register_executor(2, 500);
		let operator_balance = Balances::free_balance(7);

		assert_ok!(Agents::set_operator(RuntimeOrigin::signed(1), 7));
		System::assert_last_event(Event::OperatorProposed { agent: 1, operator: 7 }.into());
		// Named, not yet accepted: the key acts for nobody.
		assert_eq!(info(1).operator, None);
		assert_eq!(info(1).proposed_operator, Some(7));
		assert_eq!(Agents::agent_of(&7), None);
		assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(7), 1));
		assert_eq!(info(1).operator, Some(7));
		assert_eq!(info(1).proposed_operator, None);
		assert_eq!(Operators::<Test>::get(7), Some(1));
		assert_eq!(Agents::agent_of(&7), Some(1));
		assert_eq!(Agents::agent_of(&1), Some(1));
		assert_eq!(Agents::agent_of(&8), None);
		System::assert_last_event(
			Event::OperatorSet { agent: 1, operator: 7, previous: None }.into(),
		);

		// One operator, one agent.
		assert_noop!(
			Agents::set_operator(RuntimeOrigin::signed(2), 7),
			Error::<Test>::OperatorInUse
		);
		assert_noop!(
			Agents::set_operator(RuntimeOrigin::signed(1), 7),
			Error::<Test>::OperatorInUse
		);
		// An owner cannot be an operator, nor an operator an owner.
		assert_noop!(
			Agents::set_operator(RuntimeOrigin::signed(1), 2),
			Error::<Test>::OperatorIsAgent
		);
		assert_noop!(
			register(7, vec![Role::Executor], vec![], 500),
			Error::<Test>::AccountIsOperator
		);
		// Only an owner names operators.
		assert_noop!(
			Agents::set_operator(RuntimeOrigin::signed(7), 8),
			Error::<Test>::NotRegistered
		);

		// Rotation: the current key acts until the new one accepts, which frees the old one.
		assert_ok!(Agents::set_operator(RuntimeOrigin::signed(1), 8));
		assert_eq!(Agents::agent_of(&7), Some(1));
		assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(8), 1));
		assert_eq!(Operators::<Test>::get(7), None);
		assert_eq!(Agents::agent_of(&8), Some(1));
		System::assert_last_event(
			Event::OperatorSet { agent: 1, operator: 8, previous: Some(7) }.into(),
		);
		set_operator(2, 7);

		// Funds never move to an operator.
		assert_eq!(Balances::free_balance(7), operator_balance);
		assert_eq!(stake_held(7), 0);
	});
}

#[test]
fn an_account_named_operator_without_its_consent_stays_free() {
	run_test(|| {
		register_executor(1, 500);
		// The owner of agent 1 names account 7, which signed nothing.
		assert_ok!(Agents::set_operator(RuntimeOrigin::signed(1), 7));
		// 7 is nobody's operator: it registers its own agent, and may challenge agent 1's work.
		assert_eq!(Agents::agent_of(&7), None);
		assert_ok!(register(7, vec![Role::Executor], vec![model(2)], 500));
		// Now an owner, it can no longer accept.
		assert_noop!(
			Agents::accept_operator(RuntimeOrigin::signed(7), 1),
			Error::<Test>::OperatorIsAgent
		);
		// Only the named account can accept, and only for the agent that named it.
		assert_ok!(Agents::set_operator(RuntimeOrigin::signed(1), 8));
		assert_noop!(
			Agents::accept_operator(RuntimeOrigin::signed(9), 1),
			Error::<Test>::NotProposedOperator
		);
		assert_noop!(
			Agents::accept_operator(RuntimeOrigin::signed(8), 7),
			Error::<Test>::NotProposedOperator
		);
		assert_noop!(
			Agents::accept_operator(RuntimeOrigin::signed(8), 5),
			Error::<Test>::NotRegistered
		);
		// A key that became another agent's operator in between cannot accept.
		register_executor(2, 500);
		set_operator(2, 9);
		assert_ok!(Agents::set_operator(RuntimeOrigin::signed(1), 8));
		assert_ok!(Agents::accept_operator(RuntimeOrigin::signed(8), 1));
		assert_eq!(Agents::agent_of(&8), Some(1));
	});
}

/// An agent declares its node's batch speed, 1 to `MAX_BATCH_SPEED`, by its owner or operator:
/// a draw for a batch then counts its open batches against that many times a batch's period.
#[test]
fn owner_or_operator_declares_the_batch_speed_within_its_bounds() {
	run_test(|| {
		register_executor(1, 500);
		set_operator(1, 7);
		assert_eq!(info(1).batch_speed, 1, "the reference speed until declared");
		assert_ok!(Agents::set_batch_speed(RuntimeOrigin::signed(7), 3));
		System::assert_last_event(Event::BatchSpeedSet { agent: 1, speed: 3 }.into());
		assert_ok!(Agents::set_batch_speed(RuntimeOrigin::signed(1), MAX_BATCH_SPEED));
		assert_eq!(info(1).batch_speed, MAX_BATCH_SPEED);
		for speed in [0, MAX_BATCH_SPEED + 1] {
			assert_noop!(
				Agents::set_batch_speed(RuntimeOrigin::signed(1), speed),
				Error::<Test>::InvalidBatchSpeed
			);
		}
		assert_noop!(
			Agents::set_batch_speed(RuntimeOrigin::signed(3), 2),
			Error::<Test>::NotAgentOrOperator
		);
		// 10 blocks of batches open, a batch of 10 more within 10 blocks: at 2× it fits.
		let batch = BatchWork { blocks: 10, within: 10 };
		assert!(!batch.fits(10, 1) && batch.fits(10, 2) && batch.fits(0, 1));
		assert!(BatchWork { blocks: u32::MAX, within: u32::MAX }.fits(u32::MAX, MAX_BATCH_SPEED));
	});
}

#[test]
fn owner_or_operator_can_heartbeat_and_pause_others_cannot() {
	run_test(|| {
		register_executor(1, 500);
		set_operator(1, 7);
		run_to_block(5);
		assert_ok!(Agents::heartbeat(RuntimeOrigin::signed(7)));
		assert_eq!(info(1).last_seen, 5);
		System::assert_last_event(Event::Heartbeat { agent: 1 }.into());
		assert_noop!(
			Agents::heartbeat(RuntimeOrigin::signed(3)),
			Error::<Test>::NotAgentOrOperator
		);
		assert_noop!(Agents::pause(RuntimeOrigin::signed(3)), Error::<Test>::NotAgentOrOperator);
		assert_noop!(Agents::heartbeat(RuntimeOrigin::root()), BadOrigin);

		assert_ok!(Agents::pause(RuntimeOrigin::signed(7)));
		assert_eq!(info(1).status, AgentStatus::Paused);
		assert_noop!(Agents::pause(RuntimeOrigin::signed(1)), Error::<Test>::NotActive);
		assert!(!Agents::is_active(&1, Role::Executor, Some(&model(1))));
		assert_eq!(
			Agents::select(Role::Executor, &model(1), 1, [0; 32], &[], 0, None),
			Err(SelectionError::NotEnoughCandidates { available: 0 })
		);

		run_to_block(9);
		assert_ok!(Agents::resume(RuntimeOrigin::signed(1)));
		assert_eq!(info(1).status, AgentStatus::Active);
		assert_eq!(info(1).last_seen, 9);
		assert_noop!(Agents::resume(RuntimeOrigin::signed(1)), Error::<Test>::NotPaused);
		assert!(Agents::is_active(&1, Role::Executor, Some(&model(1))));
	});
}

#[test]
fn bond_extra_adds_held_stake() {
	run_test(|| {
		register_executor(1, 500);
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 250));
		assert_eq!(info(1).stake, 750);
		assert_eq!(stake_held(1), 750);
		System::assert_last_event(Event::StakeBonded { agent: 1, amount: 250, stake: 750 }.into());

		assert_noop!(Agents::bond_extra(RuntimeOrigin::signed(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Agents::bond_extra(RuntimeOrigin::signed(1), 10_000),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Agents::bond_extra(RuntimeOrigin::signed(2), 100),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn unbonded_stake_stays_held_until_the_period_ends() {
	run_test(|| {
		register_executor(1, 500);
		let free = Balances::free_balance(1);

		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 150));
		let unlock_at = 1 + UNBONDING_PERIOD;
		System::assert_last_event(Event::StakeUnbonded { agent: 1, amount: 150, unlock_at }.into());
		assert_eq!(info(1).stake, 350);
		assert_eq!(info(1).unbonding_total(), 150);
		assert_eq!(stake_held(1), 500);
		assert_eq!(Agents::stake_of(&1), 350);

		// Too early: nothing unlocked yet.
		run_to_block(unlock_at - 1);
		assert_noop!(
			Agents::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NothingToWithdraw
		);

		run_to_block(unlock_at);
		assert_ok!(Agents::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::UnbondedWithdrawn { agent: 1, amount: 150 }.into());
		assert_eq!(stake_held(1), 350);
		assert_eq!(Balances::free_balance(1), free + 150);
		assert!(info(1).unbonding.is_empty());
		assert_noop!(
			Agents::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NothingToWithdraw
		);
	});
}

#[test]
fn unbond_rejects_bad_amounts() {
	run_test(|| {
		register_executor(1, 500);
		assert_noop!(Agents::unbond(RuntimeOrigin::signed(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Agents::unbond(RuntimeOrigin::signed(1), 501),
			Error::<Test>::UnbondExceedsStake
		);
		assert_noop!(
			Agents::unbond(RuntimeOrigin::signed(1), 500 - MIN_EXECUTOR_STAKE + 1),
			Error::<Test>::BelowMinimumStake
		);
		assert_noop!(Agents::unbond(RuntimeOrigin::signed(2), 10), Error::<Test>::NotRegistered);

		// Two chunks at most (MaxUnbondingChunks = 2); unbonding twice in a block merges.
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 10));
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 10));
		assert_eq!(info(1).unbonding.len(), 1);
		run_to_block(2);
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 10));
		run_to_block(3);
		assert_noop!(
			Agents::unbond(RuntimeOrigin::signed(1), 10),
			Error::<Test>::TooManyUnbondingChunks
		);
	});
}

#[test]
fn deregister_is_refused_with_open_work() {
	run_test(|| {
		register_executor(1, 500);
		assert_ok!(Agents::note_work_opened(&1, 0, 0));
		assert_eq!(info(1).open_work, 1);
		assert_noop!(Agents::deregister(RuntimeOrigin::signed(1)), Error::<Test>::HasOpenWork);
		Agents::note_work_closed(&1, 0, 0);
		assert_eq!(info(1).open_work, 0);
		assert_ok!(Agents::deregister(RuntimeOrigin::signed(1)));
		assert_noop!(Agents::note_work_opened(&2, 0, 0), Error::<Test>::NotRegistered);
	});
}

#[test]
fn deregister_unbonds_everything_then_withdrawal_removes_the_agent() {
	run_test(|| {
		let total_before = Balances::total_balance(&1);
		register_executor(1, 500);
		set_operator(1, 7);
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 100));
		run_to_block(4);

		assert_ok!(Agents::deregister(RuntimeOrigin::signed(1)));
		let unlock_at = 4 + UNBONDING_PERIOD;
		System::assert_last_event(Event::AgentDeregistered { agent: 1, unlock_at }.into());
		let agent = info(1);
		assert_eq!(agent.status, AgentStatus::Leaving);
		assert_eq!(agent.stake, 0);
		assert_eq!(agent.unbonding.len(), 1);
		assert_eq!(agent.unbonding[0].value, 500);
		assert_eq!(agent.unbonding[0].unlock_at, unlock_at);
		assert_eq!(stake_held(1), 500);
		assert!(candidates(Role::Executor, model(1)).is_empty());
		assert!(!Agents::is_active(&1, Role::Executor, None));

		assert_noop!(Agents::deregister(RuntimeOrigin::signed(1)), Error::<Test>::Leaving);
		assert_noop!(Agents::bond_extra(RuntimeOrigin::signed(1), 10), Error::<Test>::Leaving);
		assert_noop!(Agents::unbond(RuntimeOrigin::signed(1), 10), Error::<Test>::Leaving);
		assert_noop!(Agents::set_models(RuntimeOrigin::signed(1), vec![]), Error::<Test>::Leaving);
		assert_noop!(Agents::heartbeat(RuntimeOrigin::signed(7)), Error::<Test>::Leaving);
		assert_noop!(
			Agents::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NothingToWithdraw
		);

		run_to_block(unlock_at);
		assert_ok!(Agents::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::AgentRemoved { agent: 1 }.into());
		assert!(crate::Registry::<Test>::get(1).is_none());
		assert_eq!(Operators::<Test>::get(7), None);
		assert_eq!(AgentCount::<Test>::get(), 0);
		assert_eq!(stake_held(1), 0);
		assert_eq!(deposit_held(1), 0);
		assert_eq!(Balances::free_balance(1), total_before);
		// The operator key and the owner account can be used again.
		register_executor(1, 500);
	});
}

#[test]
fn slashing_takes_bonded_stake_then_unbonding_stake() {
	run_test(|| {
		register_executor(1, 300);
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 100));
		let beneficiary_before = Balances::free_balance(5);
		let issuance = Balances::total_issuance();

		assert_eq!(Agents::slash(&1, 250, Some(&5)), 250);
		System::assert_last_event(
			Event::AgentSlashed { agent: 1, amount: 250, beneficiary: Some(5) }.into(),
		);
		let agent = info(1);
		assert_eq!(agent.stake, 0);
		assert_eq!(agent.unbonding_total(), 50);
		assert_eq!(stake_held(1), 50);
		assert_eq!(Balances::free_balance(5), beneficiary_before + 250);
		assert_eq!(Balances::total_issuance(), issuance);
		// Below its role's minimum, the agent is no longer active.
		assert!(!Agents::is_active(&1, Role::Executor, Some(&model(1))));

		// Slashing more than is held takes what there is; without a beneficiary it is burned.
		assert_eq!(Agents::slash(&1, 1_000, None), 50);
		assert_eq!(stake_held(1), 0);
		assert!(info(1).unbonding.is_empty());
		assert_eq!(Balances::total_issuance(), issuance - 50);
		assert_eq!(Agents::slash(&1, 10, None), 0);
		assert_eq!(Agents::slash(&2, 10, None), 0);
	});
}

#[test]
fn slashing_a_leaving_agent_during_unbonding() {
	run_test(|| {
		register_executor(1, 400);
		assert_ok!(Agents::deregister(RuntimeOrigin::signed(1)));
		assert_eq!(Agents::slash(&1, 150, Some(&5)), 150);
		assert_eq!(info(1).unbonding_total(), 250);
		assert_eq!(stake_held(1), 250);

		// Fully slashed: withdrawal removes the record without waiting for the period.
		assert_eq!(Agents::slash(&1, 250, Some(&5)), 250);
		assert_ok!(Agents::withdraw_unbonded(RuntimeOrigin::signed(1)));
		assert!(crate::Registry::<Test>::get(1).is_none());
		assert_eq!(deposit_held(1), 0);
	});
}

#[test]
fn silent_agents_are_not_selected_until_seen_again() {
	run_test(|| {
		register_executor(1, 500);
		run_to_block(1 + LIVENESS_PERIOD);
		assert!(Agents::is_active(&1, Role::Executor, Some(&model(1))));
		run_to_block(2 + LIVENESS_PERIOD);
		assert!(!Agents::is_active(&1, Role::Executor, Some(&model(1))));
		assert!(Agents::select(Role::Executor, &model(1), 1, [0; 32], &[], 0, None).is_err());
		// Still registered.
		assert_eq!(info(1).status, AgentStatus::Active);

		assert_ok!(Agents::heartbeat(RuntimeOrigin::signed(1)));
		assert!(Agents::is_active(&1, Role::Executor, Some(&model(1))));

		// Delivered work keeps a live agent live...
		run_to_block(2 + 2 * LIVENESS_PERIOD);
		Agents::record(&1, Outcome::Completed);
		run_to_block(3 + 2 * LIVENESS_PERIOD);
		assert!(Agents::is_active(&1, Role::Executor, None));
		// ...but does not bring back a silent one, whose seats draws may have emptied: only a
		// heartbeat does, restoring them.
		run_to_block(100);
		assert!(!Agents::is_active(&1, Role::Executor, None));
		Agents::record(&1, Outcome::Completed);
		assert!(!Agents::is_active(&1, Role::Executor, None));
		assert_ok!(Agents::heartbeat(RuntimeOrigin::signed(1)));
		assert!(Agents::is_active(&1, Role::Executor, None));
	});
}

#[test]
fn reputation_counts_outcomes() {
	run_test(|| {
		register_executor(1, 500);
		Agents::record(&1, Outcome::Completed);
		Agents::record(&1, Outcome::Completed);
		Agents::record(&1, Outcome::Challenged);
		Agents::record(&1, Outcome::ChallengeLost);
		Agents::record(&1, Outcome::AuditPassed);
		System::assert_last_event(
			Event::ReputationUpdated { agent: 1, outcome: Outcome::AuditPassed }.into(),
		);
		Agents::record(&1, Outcome::DeadlineMissed);
		Agents::record(&1, Outcome::DeadlineMissed);
		assert_eq!(
			info(1).reputation,
			Reputation {
				completed: 2,
				challenged: 1,
				challenges_lost: 1,
				audits_passed: 1,
				deadlines_missed: 2
			}
		);
		// Unknown agents are ignored.
		Agents::record(&2, Outcome::Completed);
	});
}

#[test]
fn selection_is_distinct_respects_exclusions_and_is_reproducible() {
	run_test(|| {
		register_executor(1, 100);
		register_executor(2, 200);
		register_executor(3, 300);

		let picked = Agents::select(Role::Executor, &model(1), 3, [7; 32], &[], 0, None).unwrap();
		let mut sorted = picked.clone();
		sorted.sort();
		assert_eq!(sorted, vec![1, 2, 3]);
		assert_eq!(
			Agents::select(Role::Executor, &model(1), 3, [7; 32], &[], 0, None).unwrap(),
			picked
		);

		let picked = Agents::select(Role::Executor, &model(1), 2, [9; 32], &[2], 0, None).unwrap();
		assert!(!picked.contains(&2));
		assert_eq!(picked.len(), 2);

		assert_eq!(
			Agents::select(Role::Executor, &model(1), 3, [9; 32], &[2], 0, None),
			Err(SelectionError::NotEnoughCandidates { available: 2 })
		);
		assert_eq!(
			Agents::select(Role::Executor, &model(9), 1, [9; 32], &[], 0, None),
			Err(SelectionError::NotEnoughCandidates { available: 0 })
		);
		assert_eq!(
			Agents::select(Role::Verifier, &model(1), 1, [9; 32], &[], 0, None),
			Err(SelectionError::NotEnoughCandidates { available: 0 })
		);
		assert_eq!(Agents::max_candidates(), MAX_CANDIDATES);
	});
}

#[test]
fn selection_is_weighted_by_stake() {
	run_test(|| {
		register_executor(1, 100);
		register_executor(2, 900);
		let draws = 2_000u32;
		let heavy = (0..draws)
			.filter(|i| {
				let seed = sp_io::hashing::blake2_256(&i.to_le_bytes());
				Agents::select(Role::Executor, &model(1), 1, seed, &[], 0, None).unwrap() == vec![2]
			})
			.count() as u32;
		// Expected 90%; the bounds leave room for sampling noise (σ ≈ 0.7%).
		assert!(heavy > draws * 86 / 100 && heavy < draws * 94 / 100, "heavy picked {heavy}");
	});
}

#[test]
fn a_full_candidate_set_refuses_newcomers_staked_no_more_than_its_eligible_members() {
	run_test(|| {
		for who in 1..=MAX_CANDIDATES as u64 {
			register_executor(who, 500);
		}
		assert_noop!(
			register(9, vec![Role::Executor], vec![model(1)], 500),
			Error::<Test>::CandidateSetFull
		);
		// Another model still has room.
		assert_ok!(register(9, vec![Role::Executor], vec![model(2)], 500));
		assert_noop!(
			Agents::set_models(RuntimeOrigin::signed(9), vec![model(2), model(1)]),
			Error::<Test>::CandidateSetFull
		);
	});
}

/// The squatting attack: a model's candidate set filled with paused agents locked every other
/// agent out of it, whatever its stake.
#[test]
fn squatters_lose_their_seats_to_eligible_newcomers() {
	run_test(|| {
		for who in 1..=MAX_CANDIDATES as u64 {
			register_executor(who, 100);
			assert_ok!(Agents::pause(RuntimeOrigin::signed(who)));
		}
		// An honest agent with the minimum stake takes a paused squatter's seat.
		assert_ok!(register(9, vec![Role::Executor], vec![model(1)], 100));
		System::assert_has_event(
			Event::CandidateEvicted { agent: 1, role: Role::Executor, model: model(1), by: 9 }
				.into(),
		);
		assert!(candidates(Role::Executor, model(1)).contains(&9));
		assert!(!candidates(Role::Executor, model(1)).contains(&1));
		assert_eq!(
			Agents::select(Role::Executor, &model(1), 1, [1; 32], &[], 0, None),
			Ok(vec![9])
		);

		// Silent members are ineligible too.
		run_to_block(2 + LIVENESS_PERIOD);
		assert_ok!(register(8, vec![Role::Executor], vec![model(1)], 100));
		assert!(candidates(Role::Executor, model(1)).contains(&8));

		// The evicted agent, resumed, is back where there is an ineligible member to replace.
		assert_ok!(Agents::resume(RuntimeOrigin::signed(1)));
		assert!(candidates(Role::Executor, model(1)).contains(&1));
		// Eligible members staked the same cannot be displaced.
		assert_ok!(Agents::heartbeat(RuntimeOrigin::signed(9)));
		assert_ok!(Agents::heartbeat(RuntimeOrigin::signed(8)));
		for who in 2..=MAX_CANDIDATES as u64 {
			if candidates(Role::Executor, model(1)).contains(&who) {
				assert_ok!(Agents::resume(RuntimeOrigin::signed(who)));
			}
		}
		let full = candidates(Role::Executor, model(1));
		assert_eq!(full.len(), MAX_CANDIDATES as usize);
		assert_noop!(
			register(7, vec![Role::Executor], vec![model(1)], 100),
			Error::<Test>::CandidateSetFull
		);
		// More stake than the smallest eligible member takes its seat.
		assert_ok!(register(7, vec![Role::Executor], vec![model(1)], 101));
		assert!(candidates(Role::Executor, model(1)).contains(&7));
		Agents::do_try_state().expect("invariants hold");
	});
}

/// Fills model 1's executor set with agents 1.. (stake 100), pauses agent 1 and has agent 9
/// take its seat.
fn evict_agent_1_while_paused() {
	for who in 1..=MAX_CANDIDATES as u64 {
		register_executor(who, 100);
	}
	assert_ok!(Agents::pause(RuntimeOrigin::signed(1)));
	assert_ok!(register(9, vec![Role::Executor], vec![model(1)], 100));
	assert!(!candidates(Role::Executor, model(1)).contains(&1));
}

#[test]
fn rejoin_takes_back_seats_and_only_eligible_agents_evict() {
	run_test(|| {
		evict_agent_1_while_paused();
		// Paused, agent 1 cannot rejoin; resumed, it is eligible but staked no more than
		// anyone in the full set.
		assert_noop!(Agents::rejoin(RuntimeOrigin::signed(1)), Error::<Test>::NotActive);
		assert_ok!(Agents::resume(RuntimeOrigin::signed(1)));
		assert!(!candidates(Role::Executor, model(1)).contains(&1));
		assert_noop!(Agents::rejoin(RuntimeOrigin::signed(1)), Error::<Test>::CandidateSetFull);
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 50));
		assert_ok!(Agents::rejoin(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::CandidateSetsJoined { agent: 1, joined: 1 }.into());
		assert!(candidates(Role::Executor, model(1)).contains(&1));
		// In every set already: nothing to do, and no error.
		assert_ok!(Agents::rejoin(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::CandidateSetsJoined { agent: 1, joined: 0 }.into());
	});
}

/// The availability check a task's submission makes stops at the `n`th selectable candidate:
/// it reads the records of the members before it, excluded ones aside, and no more; and it
/// answers as the full count does.
#[test]
fn the_availability_check_reads_records_up_to_the_nth_selectable_candidate() {
	run_test(|| {
		for who in 1..=MAX_CANDIDATES as u64 {
			register_executor(who, 100);
		}
		assert_eq!(candidates(Role::Executor, model(1)), vec![1, 2, 3]);
		// Agent 1's stake is all reserved; agent 2 is excluded.
		assert_ok!(Agents::note_work_opened(&1, 100, 0));
		let check = |n| Agents::has_available(Role::Executor, &model(1), n, &[2], 100, None);
		assert_eq!(check(0), (true, 0));
		// 1 is read and not selectable, 2 is skipped without a read, 3 is selectable.
		assert_eq!(check(1), (true, 2));
		assert_eq!(check(2), (false, 2));
		// Nothing excluded: 2 is the first selectable member, 3 the second.
		assert_eq!(Agents::has_available(Role::Executor, &model(1), 1, &[], 100, None), (true, 2));
		assert_eq!(Agents::has_available(Role::Executor, &model(1), 2, &[], 100, None), (true, 3));
		// A collateral of zero still passes over a member with no free stake.
		assert_eq!(Agents::has_available(Role::Executor, &model(1), 1, &[], 0, None), (true, 2));
		// Paused, agent 3 is read and passed over too.
		assert_ok!(Agents::pause(RuntimeOrigin::signed(3)));
		assert_eq!(check(1), (false, 2));
		assert_eq!(Agents::has_available(Role::Executor, &model(1), 1, &[], 100, None), (true, 2));
		assert_eq!(Agents::has_available(Role::Executor, &model(1), 2, &[], 100, None), (false, 3));
		for n in 0..=3 {
			for exclude in [&[][..], &[2][..]] {
				assert_eq!(
					Agents::has_available(Role::Executor, &model(1), n, exclude, 100, None).0,
					Agents::available(Role::Executor, &model(1), exclude, 100, None) >= n
				);
			}
		}
	});
}

/// Each assignment reserves the stake that backs it: an agent cannot promise the same stake to
/// more work than it can pay for, nor unbond it while the work is open.
#[test]
fn collateral_backs_each_piece_of_open_work_once() {
	run_test(|| {
		register_executor(1, 250);
		register_executor(2, 100);
		assert_ok!(Agents::note_work_opened(&1, 100, 0));
		assert_ok!(Agents::note_work_opened(&1, 100, 0));
		assert_eq!(info(1).collateral, 200);
		assert_eq!(Agents::free_stake_of(&1), 50);
		// The third piece of work finds too little free stake, and changes nothing.
		assert_noop!(Agents::note_work_opened(&1, 100, 0), Error::<Test>::InsufficientFreeStake);
		// Selection weighs and filters by free stake.
		assert_eq!(Agents::available(Role::Executor, &model(1), &[], 100, None), 1);
		assert_eq!(
			Agents::select(Role::Executor, &model(1), 1, [3; 32], &[], 100, None),
			Ok(vec![2])
		);
		assert_eq!(
			Agents::select(Role::Executor, &model(1), 2, [3; 32], &[], 100, None),
			Err(SelectionError::NotEnoughCandidates { available: 1 })
		);
		// Reserved stake cannot be unbonded.
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 100));
		assert_noop!(
			Agents::unbond(RuntimeOrigin::signed(1), 200),
			Error::<Test>::StakeReservedByWork
		);
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 150));
		// A slash within the collateral, then the release, leaves the rest reserved and whole.
		assert_eq!(Agents::slash(&1, 100, None), 100);
		Agents::note_work_closed(&1, 100, 0);
		assert_eq!(info(1).stake, 100);
		assert_eq!(info(1).collateral, 100);
		// A slash of part of a piece of work's collateral, which stays open, reserves the rest:
		// its count of batch work and its open work are kept.
		assert_ok!(Agents::set_batch_speed(RuntimeOrigin::signed(1), 4));
		assert_eq!(Agents::note_work_opened(&1, 0, 10), Ok(3), "10 blocks of work at 4 a block");
		assert_eq!(Agents::slash(&1, 30, None), 30);
		Agents::note_collateral_reduced(&1, 100, 70);
		assert_eq!((info(1).open_work, info(1).collateral, info(1).batch_blocks), (2, 70, 10));
		assert_eq!(Agents::free_stake_of(&1), 0);
		Agents::note_work_closed(&1, 0, 10);
		Agents::note_work_closed(&1, 70, 0);
		assert_eq!((info(1).open_work, info(1).collateral, info(1).batch_blocks), (0, 0, 0));
	});
}

#[test]
fn set_models_moves_candidate_sets_and_the_deposit() {
	run_test(|| {
		assert_ok!(register(1, vec![Role::Executor, Role::Verifier], vec![model(1)], 500));
		let deposit = deposit_held(1);
		assert_ok!(Agents::set_models(RuntimeOrigin::signed(1), vec![model(3), model(2)]));
		System::assert_last_event(Event::ModelsSet { agent: 1, models: 2 }.into());
		assert_eq!(info(1).models.to_vec(), vec![model(2), model(3)]);
		assert!(candidates(Role::Executor, model(1)).is_empty());
		assert_eq!(candidates(Role::Verifier, model(3)), vec![1]);
		assert_eq!(deposit_held(1), deposit + 32);

		assert_noop!(
			Agents::set_models(RuntimeOrigin::signed(1), vec![model(1), model(1)]),
			Error::<Test>::DuplicateModel
		);
		assert_noop!(
			Agents::set_models(RuntimeOrigin::signed(1), (1..=5).map(model).collect()),
			Error::<Test>::TooManyModels
		);
		assert_noop!(
			Agents::set_models(RuntimeOrigin::signed(2), vec![]),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn set_roles_checks_the_stake_and_moves_candidate_sets() {
	run_test(|| {
		register_executor(1, 150);
		assert_noop!(
			Agents::set_roles(RuntimeOrigin::signed(1), vec![Role::Verifier]),
			Error::<Test>::InsufficientStake
		);
		assert_noop!(Agents::set_roles(RuntimeOrigin::signed(1), vec![]), Error::<Test>::NoRoles);
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 50));
		assert_ok!(Agents::set_roles(
			RuntimeOrigin::signed(1),
			vec![Role::Verifier, Role::Curator]
		));
		assert!(candidates(Role::Executor, model(1)).is_empty());
		assert_eq!(candidates(Role::Verifier, model(1)), vec![1]);
		assert!(Agents::is_active(&1, Role::Curator, None));
		assert!(!Agents::is_active(&1, Role::Executor, None));
	});
}

#[test]
fn batch_executors_are_a_role_of_their_own_staked_as_executors() {
	run_test(|| {
		assert_noop!(
			register(1, vec![Role::BatchExecutor], vec![model(1)], MIN_EXECUTOR_STAKE - 1),
			Error::<Test>::InsufficientStake
		);
		assert_ok!(register(
			1,
			vec![Role::BatchExecutor, Role::Executor],
			vec![model(1)],
			MIN_EXECUTOR_STAKE
		));
		assert_eq!(info(1).roles.to_vec(), vec![Role::Executor, Role::BatchExecutor]);
		assert_eq!(candidates(Role::BatchExecutor, model(1)), vec![1]);
		assert_eq!(candidates(Role::Executor, model(1)), vec![1]);
		// Each role is its own candidate set: leaving one leaves the other.
		assert_ok!(Agents::set_roles(RuntimeOrigin::signed(1), vec![Role::Executor]));
		assert!(candidates(Role::BatchExecutor, model(1)).is_empty());
		assert!(!Agents::is_active(&1, Role::BatchExecutor, Some(&model(1))));
		assert!(Agents::is_active(&1, Role::Executor, Some(&model(1))));
		// Every role at once fits; one twice is refused.
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 1_000));
		assert_ok!(Agents::set_roles(RuntimeOrigin::signed(1), Role::ALL.to_vec()));
		assert_eq!(info(1).roles.len(), Role::ALL.len());
		let mut five = Role::ALL.to_vec();
		five.push(Role::BatchExecutor);
		assert_noop!(
			Agents::set_roles(RuntimeOrigin::signed(1), five),
			Error::<Test>::DuplicateRole
		);
	});
}

#[test]
fn update_metadata_resizes_the_deposit() {
	run_test(|| {
		register_executor(1, 500);
		let deposit = deposit_held(1);
		assert_ok!(Agents::update_metadata(
			RuntimeOrigin::signed(1),
			b"a longer name".to_vec(),
			b"http://10.0.0.1/v1".to_vec(),
			b"2.0".to_vec(),
		));
		System::assert_last_event(Event::MetadataUpdated { agent: 1 }.into());
		assert_eq!(info(1).metadata.name.to_vec(), b"a longer name".to_vec());
		// name +8 bytes, endpoint -6 bytes
		assert_eq!(deposit_held(1), deposit + 8 - 6);
		assert_noop!(
			Agents::update_metadata(RuntimeOrigin::signed(1), vec![0; 17], vec![], vec![]),
			Error::<Test>::NameTooLong
		);
		assert_noop!(
			Agents::update_metadata(RuntimeOrigin::signed(2), vec![], vec![], vec![]),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn deregister_without_stake_removes_at_once() {
	run_test(|| {
		register_executor(1, 500);
		assert_eq!(Agents::slash(&1, 500, None), 500);
		assert_ok!(Agents::deregister(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::AgentRemoved { agent: 1 }.into());
		assert!(crate::Registry::<Test>::get(1).is_none());
	});
}

#[test]
fn insufficient_balance_for_hold_is_a_clear_error() {
	run_test(|| {
		// The fungible layer's own error never reaches the caller.
		let result = register(10, vec![Role::Executor], vec![], 150);
		assert_eq!(result, Err(Error::<Test>::InsufficientBalance.into()));
		assert_ne!(result, Err(DispatchError::Token(TokenError::FundsUnavailable)));
	});
}

#[test]
fn integrity_test_passes() {
	new_test_ext().execute_with(|| {
		<Agents as Hooks<u64>>::integrity_test();
	});
}

#[test]
fn clients_see_an_agent_by_owner_or_operator_and_the_agents_serving_a_model() {
	run_test(|| {
		register_executor(1, 150);
		register_executor(2, 120);
		set_operator(1, 31);

		let view = Agents::agent_view(&1).expect("agent 1");
		assert_eq!(view, Agents::agent_view(&31).expect("through its operator key"));
		assert_eq!(view.owner, 1);
		assert_eq!(view.operator, Some(31));
		assert_eq!(view.stake, 150);
		assert_eq!(view.roles, vec![Role::Executor]);
		assert_eq!(view.status, AgentStatus::Active);
		assert!(view.selectable);
		assert_eq!(Agents::agent_view(&9), None, "not an agent");

		let serving = |m| -> Vec<u64> {
			Agents::agents_serving(&m, Role::Executor)
				.into_iter()
				.map(|a| a.owner)
				.collect()
		};
		let served = info(1).models[0];
		assert_eq!(serving(served).len(), 2);
		assert_ok!(Agents::pause(RuntimeOrigin::signed(2)));
		assert_eq!(serving(served), vec![1], "a paused agent is not selectable");
		assert!(!Agents::agent_view(&2).unwrap().selectable);
		assert_eq!(Agents::agent_view(&2).unwrap().status, AgentStatus::Paused);
		assert!(serving(model(0xEE)).is_empty());
		assert!(Agents::agents_serving(&served, Role::Curator).is_empty());

		// Silent for longer than the liveness period: still registered, no longer selectable.
		run_to_block(2 + LIVENESS_PERIOD);
		assert!(!Agents::agent_view(&1).unwrap().selectable);
		assert!(serving(served).is_empty());
	});
}

/// An agent evicted from its only candidate set while paused is active again after `resume`,
/// but in no set: the view must not call it selectable (it said so, from eligibility alone,
/// while no draw could pick it) until it rejoins.
#[test]
fn an_agent_evicted_while_paused_is_not_selectable_until_it_rejoins() {
	run_test(|| {
		evict_agent_1_while_paused();
		assert_ok!(Agents::resume(RuntimeOrigin::signed(1)));
		assert_eq!(info(1).status, AgentStatus::Active);
		assert!(!Agents::agent_view(&1).unwrap().selectable);
		assert!(Agents::agent_view(&9).unwrap().selectable);

		// With more stake than the smallest member, it takes a seat back and is selectable.
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 1));
		assert_ok!(Agents::rejoin(RuntimeOrigin::signed(1)));
		assert!(Agents::agent_view(&1).unwrap().selectable);
	});
}

/// A leaving agent's record only waits for its stake to unlock: like its models and roles,
/// its metadata no longer changes.
#[test]
fn a_leaving_agent_cannot_update_its_metadata() {
	run_test(|| {
		register_executor(1, 100);
		assert_ok!(Agents::deregister(RuntimeOrigin::signed(1)));
		let deposit = info(1).deposit;
		assert_noop!(
			Agents::update_metadata(
				RuntimeOrigin::signed(1),
				b"renamed".to_vec(),
				b"http://elsewhere".to_vec(),
				b"2".to_vec()
			),
			Error::<Test>::Leaving
		);
		assert_eq!(info(1).deposit, deposit);
	});
}

/// Funds and registers `who` as an executor of model 1 staked `stake`.
fn register_funded_executor(who: u64, stake: u64) {
	use frame_support::traits::fungible::Mutate;
	Balances::set_balance(&who, stake.saturating_mul(2).saturating_add(1_000));
	register_executor(who, stake);
}

/// The weight of each candidate of executor set 1 in a draw that reads every record: its free
/// stake if it is selectable for `collateral` 0, else 0. The law the draw must follow.
fn scan_weights(exclude: &[u64]) -> Vec<(u64, u64)> {
	let now = System::block_number();
	candidates(Role::Executor, model(1))
		.into_iter()
		.filter(|who| !exclude.contains(who))
		.map(|who| {
			let info = info(who);
			let selectable = Agents::is_eligible(&info, Role::Executor, now);
			(who, if selectable { info.free_stake() } else { 0 })
		})
		.collect()
}

/// Pearson's χ² of the first picks of `draws` draws against the law of a scan of every record.
fn first_pick_chi_square(draws: u32, exclude: &[u64]) -> (f64, usize) {
	first_pick_chi_square_of(draws, exclude, false)
}

/// [`first_pick_chi_square`], with the seats put back as they were after each draw if
/// `restore_seats` (so that each draw meets the seats the first one did).
fn first_pick_chi_square_of(draws: u32, exclude: &[u64], restore_seats: bool) -> (f64, usize) {
	let law = scan_weights(exclude);
	let total: u64 = law.iter().map(|(_, w)| w).sum();
	let mut counts = alloc::collections::BTreeMap::<u64, u32>::new();
	let seats = Candidates::<Test>::get(Role::Executor, model(1));
	for i in 0..draws {
		let seed = sp_io::hashing::blake2_256(&(b"first pick", i).encode());
		let picked = Agents::select(Role::Executor, &model(1), 1, seed, exclude, 0, None).unwrap();
		*counts.entry(picked[0]).or_default() += 1;
		if restore_seats {
			Candidates::<Test>::insert(Role::Executor, model(1), seats.clone());
		}
	}
	let mut chi = 0f64;
	let mut cells = 0;
	for (who, weight) in &law {
		let seen = counts.remove(who).unwrap_or(0) as f64;
		if *weight == 0 {
			assert_eq!(seen, 0.0, "agent {who} has no weight in the draw and was picked");
			continue;
		}
		let expected = draws as f64 * *weight as f64 / total as f64;
		chi += (seen - expected) * (seen - expected) / expected;
		cells += 1;
	}
	assert!(counts.is_empty(), "picked outside the set or excluded: {counts:?}");
	(chi, cells)
}

/// χ² at the 1/1000 level for 1 to 6 degrees of freedom.
const CHI_SQUARE_0_001: [f64; 6] = [10.83, 13.82, 16.27, 18.47, 20.52, 22.46];

#[test]
fn the_draw_has_the_law_of_a_scan_of_every_record_whatever_the_seats_hold() {
	run_test(|| {
		CandidateBound::set(64);
		// Selectable at full weight.
		register_funded_executor(11, 1_000);
		register_funded_executor(17, 800);
		// Slashed from 2,000 to 500: its seat still weighs 2,000 until a draw reads it.
		register_funded_executor(12, 2_000);
		assert_eq!(Agents::slash(&12, 1_500, None), 1_500);
		// 2,500 of 3,000 reserved by open work: 500 free.
		register_funded_executor(13, 3_000);
		assert_ok!(Agents::note_work_opened(&13, 2_500, 0));
		// Silent, with the largest stake.
		register_funded_executor(14, 5_000);
		// Paused.
		register_funded_executor(15, 4_000);
		assert_ok!(Agents::pause(RuntimeOrigin::signed(15)));
		// 1,000 of 1,500 unbonding: 500 bonded, its seat reweighed at once.
		register_funded_executor(16, 1_500);
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(16), 1_000));
		// Excluded from the draws, with a large stake.
		register_funded_executor(18, 3_000);
		// All but agent 14 are seen before they fall silent.
		run_to_block(1 + LIVENESS_PERIOD);
		for who in [11, 12, 13, 15, 16, 17, 18] {
			assert_ok!(Agents::heartbeat(RuntimeOrigin::signed(who)));
		}
		run_to_block(2 + LIVENESS_PERIOD);
		let weights: Vec<(u64, u64)> = Candidates::<Test>::get(Role::Executor, model(1))
			.iter()
			.map(|seat| (seat.agent, seat.weight))
			.collect();
		assert!(weights.contains(&(12, 2_000)) && weights.contains(&(16, 500)));

		let (chi, cells) = first_pick_chi_square(4_000, &[18]);
		assert_eq!(cells, 5);
		assert!(chi < CHI_SQUARE_0_001[cells - 2], "χ² {chi} over {cells} cells");

		// The draws lowered the seats they found too heavy: the slashed agent's to its stake,
		// the silent one's to nothing. A paused agent's weighed nothing already; collateral
		// comes and goes without a write, so the locked agent's seat keeps its bonded stake.
		let weight = |who| {
			Candidates::<Test>::get(Role::Executor, model(1))
				.iter()
				.find(|seat| seat.agent == who)
				.map(|seat| seat.weight)
		};
		assert_eq!((weight(12), weight(16)), (Some(500), Some(500)));
		assert_eq!((weight(14), weight(13)), (Some(0), Some(3_000)));
		assert_eq!(weight(15), Some(0));
	});
}

/// In sets of up to 64: agents 100 to 159 join staked 100,000, `set_aside` takes them out of
/// the draws, then agents `live` join, staked 100.
fn heavyweights_set_aside_beside(set_aside: impl FnOnce(), live: core::ops::Range<u64>) {
	CandidateBound::set(64);
	for who in 100..160 {
		register_funded_executor(who, 100_000);
	}
	set_aside();
	for who in live {
		register_funded_executor(who, 100);
	}
}

/// [`heavyweights_set_aside_beside`], the heavyweights falling silent.
fn silent_heavyweights_beside(live: core::ops::Range<u64>) {
	heavyweights_set_aside_beside(|| run_to_block(2 + LIVENESS_PERIOD), live);
}

#[test]
fn silent_stake_never_makes_a_draw_report_too_few_candidates() {
	run_test(|| {
		// 60 silent agents with 1,000 times the stake of the 3 live ones: nearly every point
		// lands on a silent seat, every attempt of a draw is rejected, and the scan completes it.
		// The seats are put back after each draw, which would otherwise empty the silent ones.
		silent_heavyweights_beside(11..14);
		let seats = Candidates::<Test>::get(Role::Executor, model(1));
		for i in 0..100u32 {
			Candidates::<Test>::insert(Role::Executor, model(1), seats.clone());
			let seed = sp_io::hashing::blake2_256(&i.to_le_bytes());
			let (mut picked, reads) =
				Agents::draw_candidates(Role::Executor, &model(1), 3, &seed, &[], 0, None)
					.expect("three agents are selectable");
			picked.sort();
			assert_eq!(picked, vec![11, 12, 13]);
			// Every record read at most once: the attempts, then the scan of the rest.
			assert!(reads <= 63, "{reads} reads");
		}
		assert_eq!(
			Agents::select(Role::Executor, &model(1), 4, [1; 32], &[], 0, None),
			Err(SelectionError::NotEnoughCandidates { available: 3 })
		);
	});
}

#[test]
fn a_draw_reads_the_records_it_lands_on_not_the_whole_set() {
	run_test(|| {
		CandidateBound::set(64);
		for who in 100..164 {
			register_funded_executor(who, 1_000);
		}
		for i in 0..50u32 {
			let seed = sp_io::hashing::blake2_256(&i.to_le_bytes());
			let (picked, reads) =
				Agents::draw_candidates(Role::Executor, &model(1), 5, &seed, &[], 0, None).unwrap();
			assert_eq!(picked.len(), 5);
			// Every seat weighs its agent's free stake: every attempt is accepted.
			assert_eq!(reads, 5);
		}
	});
}

/// Registers agent 1 as executor and verifier of models 1 and 2, and agent 2 as an executor of
/// model 1, each staked 1,000, in sets of up to 64.
fn seat_1_in_two_roles_and_models_beside_2() {
	CandidateBound::set(64);
	assert_ok!(register(1, vec![Role::Executor, Role::Verifier], vec![model(1), model(2)], 1_000));
	register_executor(2, 1_000);
}

/// Asserts that each of agent 1's seats (executor and verifier, models 1 and 2) weighs `weight`.
fn assert_seats_of_1_weigh(weight: u64) {
	for role in [Role::Executor, Role::Verifier] {
		for m in [model(1), model(2)] {
			let set = Candidates::<Test>::get(role, m);
			let seat = set.iter().find(|seat| seat.agent == 1).expect("seated");
			assert_eq!(seat.weight, weight, "{role:?} {m:?}");
		}
	}
}

#[test]
fn bonding_more_weighs_in_every_seat_at_once_and_unbonding_leaves_the_draw_at_once() {
	run_test(|| {
		seat_1_in_two_roles_and_models_beside_2();
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 3_000));
		assert_seats_of_1_weigh(4_000);
		// 4,000 against 1,000: agent 1 takes 80% of first picks.
		let (chi, cells) = first_pick_chi_square(2_000, &[]);
		assert!(chi < CHI_SQUARE_0_001[cells - 2], "χ² {chi}");

		// Unbonding 3,000 reweighs every seat at once, and takes effect in the next draw.
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 3_000));
		assert_seats_of_1_weigh(1_000);
		let (chi, cells) = first_pick_chi_square(2_000, &[]);
		assert!(chi < CHI_SQUARE_0_001[cells - 2], "χ² {chi} after the unbond");
	});
}

#[test]
fn a_draw_completed_by_its_scan_has_the_law_of_a_scan_of_every_record() {
	run_test(|| {
		CandidateBound::set(64);
		// 30 silent agents with 2,500 to 10,000 times the others' stake: the attempts of a draw
		// land on them, are rejected, and the scan picks. The seats are put back after each
		// draw, which would otherwise empty the silent ones for the next.
		for who in 100..130 {
			register_funded_executor(who, 1_000_000);
		}
		run_to_block(2 + LIVENESS_PERIOD);
		for (who, stake) in [(11, 100), (12, 200), (13, 300), (14, 400)] {
			register_funded_executor(who, stake);
		}
		let (chi, cells) = first_pick_chi_square_of(4_000, &[], true);
		assert_eq!(cells, 4);
		assert!(chi < CHI_SQUARE_0_001[cells - 2], "χ² {chi} over {cells} cells");
		let (_, reads) =
			Agents::draw_candidates(Role::Executor, &model(1), 1, &[3; 32], &[], 0, None).unwrap();
		assert!(reads > 19, "the scan completed the draw after {reads} reads");
	});
}

#[test]
fn pausing_takes_every_seat_out_of_the_draw_and_resuming_puts_it_back() {
	run_test(|| {
		seat_1_in_two_roles_and_models_beside_2();
		assert_ok!(Agents::pause(RuntimeOrigin::signed(1)));
		assert_seats_of_1_weigh(0);
		// Bonding more while paused adds nothing to the draws either.
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(1), 3_000));
		assert_seats_of_1_weigh(0);
		for i in 0..20u32 {
			let seed = sp_io::hashing::blake2_256(&i.to_le_bytes());
			// Only agent 2 has a weight: the first point lands on it.
			assert_eq!(
				Agents::draw_candidates(Role::Executor, &model(1), 1, &seed, &[], 0, None),
				Ok((vec![2], 1))
			);
		}

		assert_ok!(Agents::resume(RuntimeOrigin::signed(1)));
		assert_seats_of_1_weigh(4_000);
		let (chi, cells) = first_pick_chi_square(2_000, &[]);
		assert!(chi < CHI_SQUARE_0_001[cells - 2], "χ² {chi} after resuming");

		// A slash leaves the seats above the stake; rejoining sets them to it.
		assert_eq!(Agents::slash(&1, 1_000, None), 1_000);
		assert_seats_of_1_weigh(4_000);
		assert_ok!(Agents::rejoin(RuntimeOrigin::signed(1)));
		assert_seats_of_1_weigh(3_000);
	});
}

#[test]
fn paused_stake_costs_a_draw_no_rejections() {
	run_test(|| {
		// 60 agents with 1,000 times the stake of the 4 live ones pause: were their seats still
		// weighed, nearly every point would land on them and each draw would end in a scan.
		let pause_all = || {
			for who in 100..160 {
				assert_ok!(Agents::pause(RuntimeOrigin::signed(who)));
			}
		};
		heavyweights_set_aside_beside(pause_all, 11..15);
		assert_draws_of_3_read_3_records_of_11_to_14();
	});
}

/// Asserts that 50 draws of 3 executors of model 1 each read 3 records, of agents 11 to 14 (every
/// attempt lands on one of them and is accepted), and that first picks follow the law of a scan.
fn assert_draws_of_3_read_3_records_of_11_to_14() {
	for i in 0..50u32 {
		let seed = sp_io::hashing::blake2_256(&i.to_le_bytes());
		let (picked, reads) =
			Agents::draw_candidates(Role::Executor, &model(1), 3, &seed, &[], 0, None).unwrap();
		assert_eq!(picked.len(), 3);
		assert!(picked.iter().all(|who| (11..15).contains(who)));
		assert_eq!(reads, 3);
	}
	let (chi, cells) = first_pick_chi_square(2_000, &[]);
	assert_eq!(cells, 4);
	assert!(chi < CHI_SQUARE_0_001[cells - 2], "χ² {chi}");
}

#[test]
fn silent_stake_is_taken_out_of_the_draws_by_the_first_draw_that_reads_it() {
	run_test(|| {
		// 60 agents with 1,000 times the stake of the 4 live ones go silent, for free: were
		// their seats kept, every draw would land on them and end in a scan.
		silent_heavyweights_beside(11..15);
		let (_, first) =
			Agents::draw_candidates(Role::Executor, &model(1), 3, &[9; 32], &[], 0, None).unwrap();
		assert!(first > 19, "the first draw scanned: {first} reads");
		// It read every silent record, and emptied every silent seat.
		let set = Candidates::<Test>::get(Role::Executor, model(1));
		assert!(set.iter().all(|seat| seat.weight == if seat.agent < 100 { 100 } else { 0 }));
		assert_draws_of_3_read_3_records_of_11_to_14();
	});
}

#[test]
fn a_heartbeat_after_silence_restores_every_seat_at_once() {
	run_test(|| {
		seat_1_in_two_roles_and_models_beside_2();
		run_to_block(2 + LIVENESS_PERIOD);
		assert_ok!(Agents::heartbeat(RuntimeOrigin::signed(2)));
		// A draw of two reads both records: agent 1 is silent, its seat in this set emptied.
		assert_eq!(
			Agents::select(Role::Executor, &model(1), 2, [5; 32], &[], 0, None),
			Err(SelectionError::NotEnoughCandidates { available: 1 })
		);
		let seat_of_1 = |role, m| {
			Candidates::<Test>::get(role, m)
				.iter()
				.find(|seat| seat.agent == 1)
				.map(|s| s.weight)
		};
		assert_eq!(seat_of_1(Role::Executor, model(1)), Some(0));
		assert_eq!(seat_of_1(Role::Verifier, model(2)), Some(1_000));
		// Delivered work does not bring it back with an empty seat.
		Agents::record(&1, Outcome::Completed);
		assert!(!Agents::is_active(&1, Role::Executor, Some(&model(1))));

		// The heartbeat restores every seat, and is charged for the agent's two models; a live
		// agent's heartbeat is not.
		let post = Agents::heartbeat(RuntimeOrigin::signed(1)).expect("heartbeat");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::heartbeat_after_silence(2)));
		assert_seats_of_1_weigh(1_000);
		let (chi, cells) = first_pick_chi_square(2_000, &[]);
		assert_eq!(cells, 2);
		assert!(chi < CHI_SQUARE_0_001[0], "χ² {chi} after the heartbeat");
		let post = Agents::heartbeat(RuntimeOrigin::signed(1)).expect("heartbeat");
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::heartbeat()));
	});
}

#[test]
fn an_executor_taking_the_verifier_role_replaces_a_smaller_verifier_in_a_full_set() {
	run_test(|| {
		for who in 1..=MAX_CANDIDATES as u64 {
			assert_ok!(register(who, vec![Role::Verifier], vec![model(1)], MIN_VERIFIER_STAKE));
		}
		register_executor(9, 1_000);
		// Eligibility for the verifier role is judged with the roles it is taking.
		assert_ok!(Agents::set_roles(
			RuntimeOrigin::signed(9),
			vec![Role::Executor, Role::Verifier]
		));
		System::assert_has_event(
			Event::CandidateEvicted { agent: 1, role: Role::Verifier, model: model(1), by: 9 }
				.into(),
		);
		assert!(candidates(Role::Verifier, model(1)).contains(&9));
		assert!(candidates(Role::Executor, model(1)).contains(&9));
	});
}

#[test]
fn a_rejoin_that_joins_no_set_still_sets_the_seats_it_holds_to_the_stake() {
	run_test(|| {
		assert_ok!(register(1, vec![Role::Executor], vec![model(1), model(2)], 150));
		assert_ok!(Agents::pause(RuntimeOrigin::signed(1)));
		// Model 1's set fills with agents staked more, the last taking paused agent 1's seat.
		for who in 2..=MAX_CANDIDATES as u64 + 1 {
			register_executor(who, 200);
		}
		assert!(!candidates(Role::Executor, model(1)).contains(&1));
		assert_ok!(Agents::resume(RuntimeOrigin::signed(1)));
		assert_eq!(Agents::slash(&1, 40, None), 40);
		let seat_in_model_2 = || {
			Candidates::<Test>::get(Role::Executor, model(2))
				.iter()
				.find(|seat| seat.agent == 1)
				.map(|seat| seat.weight)
		};
		assert_eq!(seat_in_model_2(), Some(150));
		// Model 1's set has no seat for it, but the seat it holds is set to its stake.
		assert_ok!(Agents::rejoin(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::CandidateSetsJoined { agent: 1, joined: 0 }.into());
		assert_eq!(seat_in_model_2(), Some(110));
		// Nothing to join and nothing to set: the set is still full.
		assert_noop!(Agents::rejoin(RuntimeOrigin::signed(1)), Error::<Test>::CandidateSetFull);
	});
}
