//! The upgrade of a running chain to this runtime: its migrations run as a node runs them, on
//! state written in the previous layouts, with work in flight.

use super::{account, validators::run_to_block, with_preset};
use crate::{Executive, Runtime, RuntimeOrigin, System, UNIT, VERSION};
use frame_support::{
	assert_ok,
	traits::{GetStorageVersion, StorageVersion},
};
use pallet_agents::{
	migrations::{v2::v1, v3::v2},
	Candidate, Candidates, Registry, Role,
};
use pallet_inference::{AssignedTasks, TaskInput, TaskParams, VerificationMode};
use sp_keyring::Sr25519Keyring::{Bob, Charlie, Dave};

type Agents = pallet_agents::Pallet<Runtime>;
type Inference = pallet_inference::Pallet<Runtime>;

#[test]
fn this_runtime_is_spec_132_and_stores_the_agent_registry_in_version_4() {
	assert_eq!(VERSION.spec_version, 132);
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		assert_eq!(Agents::on_chain_storage_version(), 4);
		assert_eq!(Agents::in_code_storage_version(), 4);
	});
}

#[test]
fn upgrading_from_spec_105_keeps_stakes_and_open_tasks_and_counts_misses_from_then_on() {
	with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		run_to_block(1);
		let model = sp_core::H256::repeat_byte(7);
		let (bob, charlie) = (account(Bob), account(Charlie));
		assert_ok!(Agents::register(
			RuntimeOrigin::signed(bob.clone()),
			b"bob".to_vec(),
			b"http://bob".to_vec(),
			b"1".to_vec(),
			vec![model],
			vec![Role::Executor],
			500 * UNIT,
		));
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(bob.clone()), 50 * UNIT));
		// Dave, paused, shares the candidate set and is never drawn.
		let dave = account(Dave);
		assert_ok!(Agents::register(
			RuntimeOrigin::signed(dave.clone()),
			b"dave".to_vec(),
			b"http://dave".to_vec(),
			b"1".to_vec(),
			vec![model],
			vec![Role::Executor],
			700 * UNIT,
		));
		assert_ok!(Agents::pause(RuntimeOrigin::signed(dave.clone())));
		assert_ok!(Inference::submit_task(
			RuntimeOrigin::signed(charlie),
			model,
			TaskInput::Inline(b"2+2".to_vec()),
			TaskParams {
				max_tokens: 8,
				temperature_milli: 0,
				seed: 1,
				mode: VerificationMode::ExactMatch
			},
			UNIT,
			1,
			5,
		));
		run_to_block(3);
		assert!(AssignedTasks::<Runtime>::contains_key(&bob, 0), "Bob executes task 0");
		let before = Registry::<Runtime>::get(&bob).expect("Bob is registered");
		assert_eq!(before.open_work, 1);
		assert!(before.collateral > 0);

		// The chain as spec 105 left it: Bob's record in the version 1 layout, the candidate set
		// without weights.
		assert_eq!(before.reputation, Default::default());
		let old = v1::AgentInfo::<Runtime>::from(before.clone());
		frame_support::storage::unhashed::put(&Registry::<Runtime>::hashed_key_for(&bob), &old);
		v2::Candidates::<Runtime>::insert(
			Role::Executor,
			model,
			frame_support::BoundedVec::truncate_from(vec![bob.clone(), dave.clone()]),
		);
		StorageVersion::new(1).put::<Agents>();

		// What a node runs in the first block of the new runtime.
		Executive::execute_on_runtime_upgrade();

		assert_eq!(Agents::on_chain_storage_version(), 4);
		assert_eq!(Registry::<Runtime>::get(&bob), Some(before.clone()));
		assert_eq!(
			Candidates::<Runtime>::get(Role::Executor, model).into_inner(),
			vec![
				Candidate { agent: bob.clone(), weight: before.stake },
				Candidate { agent: dave, weight: 700 * UNIT }
			],
			"Bob and Dave keep their seats, each weighing its bonded stake"
		);

		// The open task goes on under the new runtime: Bob never commits, misses the deadline,
		// is slashed from the collateral reserved for it, and the miss is on his record.
		let deadline = pallet_inference::Tasks::<Runtime>::get(0).expect("task 0").phase_ends;
		run_to_block(deadline + 1);
		let after = Registry::<Runtime>::get(&bob).expect("Bob is still registered");
		assert_eq!(after.reputation.deadlines_missed, 1);
		assert_eq!(after.open_work, 0);
		assert_eq!(after.collateral, 0);
		assert!(after.stake < before.stake && after.stake + before.collateral >= before.stake);
		assert_eq!(after.unbonding, before.unbonding);
		assert!(System::events().iter().any(|record| matches!(
			&record.event,
			crate::RuntimeEvent::Inference(pallet_inference::Event::ExecutorMissedDeadline {
				task: 0,
				..
			})
		)));
	});
}
