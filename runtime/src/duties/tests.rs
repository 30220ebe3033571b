//! The priority lane: duties get priority, pretences of duties are refused at validation, and
//! everything else is ordinary traffic.

use super::*;
use crate::{Challenges, Inference, RuntimeCall, UNIT};
use agentchain_primitives::{
	agents::Role,
	duties::DutyError,
	inference::{TaskId, VerificationMode},
};
use frame_support::{
	dispatch::{DispatchClass, GetDispatchInfo},
	traits::Hooks,
};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::{
	traits::DispatchTransaction,
	transaction_validity::{TransactionSource, TransactionValidityError},
};

fn model() -> H256 {
	H256::repeat_byte(0x4d)
}

fn who(keyring: Sr25519Keyring) -> crate::AccountId {
	keyring.to_account_id()
}

/// Seals the current block and runs the AgentChain hooks of the next one.
fn next_block() {
	let now = System::block_number();
	System::initialize(&(now + 1), &H256::repeat_byte(now as u8 + 1), &Default::default());
	Inference::on_initialize(now + 1);
	Challenges::on_initialize(now + 1);
}

fn register(keyring: Sr25519Keyring, role: Role) {
	RuntimeCall::Agents(pallet_agents::Call::register {
		name: b"agent".to_vec(),
		endpoint: b"http://agent".to_vec(),
		version: b"1".to_vec(),
		models: vec![model()],
		roles: vec![role],
		stake: 500 * UNIT,
	})
	.dispatch_bypass_filter(RuntimeOrigin::signed(who(keyring)))
	.expect("registers");
}

/// What the extension says of `call` signed by `signer`.
fn validate(
	signer: Sr25519Keyring,
	call: &RuntimeCall,
) -> Result<ValidTransaction, TransactionValidityError> {
	PrioritizeDuties
		.validate_only(
			RuntimeOrigin::signed(who(signer)),
			call,
			&call.get_dispatch_info(),
			0,
			TransactionSource::External,
			0,
		)
		.map(|(valid, _, _)| valid)
}

fn refused(error: DutyError) -> Result<ValidTransaction, TransactionValidityError> {
	Err(InvalidTransaction::Custom(error as u8).into())
}

/// Bob and Charlie execute `model()`; Dave, Eve and Ferdie verify it; Alice submits a task with
/// one executor, drawn at the next block. Returns the task and its executor.
fn assigned_task() -> (TaskId, Sr25519Keyring) {
	register(Bob, Role::Executor);
	register(Charlie, Role::Executor);
	for verifier in [Dave, Eve, Ferdie] {
		register(verifier, Role::Verifier);
	}
	let id = pallet_inference::NextTaskId::<Runtime>::get();
	RuntimeCall::Inference(pallet_inference::Call::submit_task {
		model: model(),
		input: pallet_inference::TaskInput::Inline(b"2+2=".to_vec()),
		params: pallet_inference::TaskParams {
			max_tokens: 8,
			temperature_milli: 0,
			seed: 1,
			mode: VerificationMode::ExactMatch,
		},
		fee: UNIT,
		redundancy: 1,
		commit_period: 5,
	})
	.dispatch_bypass_filter(RuntimeOrigin::signed(who(Alice)))
	.expect("submitted");
	next_block();
	let executor = pallet_inference::Tasks::<Runtime>::get(id).unwrap().assignments[0]
		.executor
		.clone();
	let executor = if executor == who(Bob) { Bob } else { Charlie };
	(id, executor)
}

fn dispatch(signer: Sr25519Keyring, call: RuntimeCall) {
	call.dispatch_bypass_filter(RuntimeOrigin::signed(who(signer)))
		.expect("dispatched");
}

use frame_support::traits::UnfilteredDispatchable as _;

#[test]
fn an_executors_commit_and_reveal_are_duties_and_nobody_elses_are() {
	crate::tests::with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		next_block();
		let (id, executor) = assigned_task();
		let other = if executor == Bob { Charlie } else { Bob };
		let output_hash = H256(sp_io::hashing::blake2_256(b"4"));
		let salt = [7u8; 32];
		let commit = RuntimeCall::Inference(pallet_inference::Call::commit {
			task: id,
			commitment: pallet_inference::commitment_of(&output_hash, &salt, &who(executor)),
		});
		let reveal = RuntimeCall::Inference(pallet_inference::Call::reveal {
			task: id,
			output_hash,
			salt,
			output: Some(b"4".to_vec()),
			uri: None,
		});
		assert_eq!(commit.get_dispatch_info().class, DispatchClass::Operational);
		assert_eq!(reveal.get_dispatch_info().class, DispatchClass::Operational);

		let duty = validate(executor, &commit).expect("the executor's commit is a duty");
		assert_eq!(duty.priority, DUTY_PRIORITY);
		assert_eq!(duty.provides.len(), 1);
		let deadline = pallet_inference::Tasks::<Runtime>::get(id).unwrap().phase_ends;
		assert_eq!(duty.longevity, u64::from(deadline - System::block_number()));
		// Anyone else's commit is refused before it reaches the pool, and so is a reveal out of
		// its phase, or a commit to a task that does not exist.
		assert_eq!(validate(other, &commit), refused(DutyError::NotAssigned));
		assert_eq!(validate(Alice, &commit), refused(DutyError::NotAssigned));
		assert_eq!(validate(executor, &reveal), refused(DutyError::WrongPhase));
		let unknown = RuntimeCall::Inference(pallet_inference::Call::commit {
			task: id + 1,
			commitment: H256::zero(),
		});
		assert_eq!(validate(executor, &unknown), refused(DutyError::NotAssigned));

		dispatch(executor, commit.clone());
		assert_eq!(validate(executor, &commit), refused(DutyError::AlreadyDone));
		let duty = validate(executor, &reveal).expect("the executor's reveal is a duty");
		assert_eq!(duty.priority, DUTY_PRIORITY);
		assert_eq!(validate(other, &reveal), refused(DutyError::NotAssigned));
		dispatch(executor, reveal.clone());
		assert_eq!(validate(executor, &reveal), refused(DutyError::AlreadyDone));
	});
}

#[test]
fn a_commit_past_its_deadline_is_refused_at_validation() {
	crate::tests::with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		next_block();
		let (id, executor) = assigned_task();
		let commit = RuntimeCall::Inference(pallet_inference::Call::commit {
			task: id,
			commitment: H256::repeat_byte(1),
		});
		let deadline = pallet_inference::Tasks::<Runtime>::get(id).unwrap().phase_ends;
		// The hook of the deadline's block has not run yet (a full queue, say).
		System::set_block_number(deadline);
		assert_eq!(validate(executor, &commit), refused(DutyError::DeadlinePassed));
	});
}

#[test]
fn jurors_votes_are_duties_of_the_jurors_only() {
	crate::tests::with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		next_block();
		let (id, executor) = assigned_task();
		let output_hash = H256(sp_io::hashing::blake2_256(b"5"));
		let salt = [7u8; 32];
		dispatch(
			executor,
			RuntimeCall::Inference(pallet_inference::Call::commit {
				task: id,
				commitment: pallet_inference::commitment_of(&output_hash, &salt, &who(executor)),
			}),
		);
		dispatch(
			executor,
			RuntimeCall::Inference(pallet_inference::Call::reveal {
				task: id,
				output_hash,
				salt,
				output: Some(b"5".to_vec()),
				uri: None,
			}),
		);
		// The results are compared at the next block: then the task can be challenged.
		next_block();
		let bond = Challenges::base_bond(UNIT);
		dispatch(
			Alice,
			RuntimeCall::Challenges(pallet_challenges::Call::challenge { task: id, bond }),
		);
		next_block();
		let jury: Vec<_> = pallet_challenges::Disputes::<Runtime>::get(id)
			.unwrap()
			.jury
			.iter()
			.map(|seat| seat.juror.clone())
			.collect();
		assert_eq!(jury.len(), 3);
		let vote = H256(sp_io::hashing::blake2_256(b"4"));
		let commit_vote = |juror: Sr25519Keyring| {
			RuntimeCall::Challenges(pallet_challenges::Call::commit_vote {
				task: id,
				commitment: pallet_challenges::vote_commitment(id, 0, &vote, &salt, &who(juror)),
			})
		};
		for juror in [Dave, Eve, Ferdie] {
			let duty = validate(juror, &commit_vote(juror)).expect("a juror's commit is a duty");
			assert_eq!(duty.priority, DUTY_PRIORITY);
		}
		assert_eq!(commit_vote(Dave).get_dispatch_info().class, DispatchClass::Operational);
		assert_eq!(validate(Alice, &commit_vote(Alice)), refused(DutyError::NotAssigned));
		assert_eq!(validate(executor, &commit_vote(executor)), refused(DutyError::NotAssigned));
		let reveal_vote =
			RuntimeCall::Challenges(pallet_challenges::Call::reveal_vote { task: id, vote, salt });
		assert_eq!(validate(Dave, &reveal_vote), refused(DutyError::WrongPhase));
		dispatch(Dave, commit_vote(Dave));
		assert_eq!(validate(Dave, &commit_vote(Dave)), refused(DutyError::AlreadyDone));
	});
}

#[test]
fn a_due_heartbeat_is_a_duty_and_ordinary_calls_are_ordinary() {
	crate::tests::with_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		next_block();
		register(Bob, Role::Executor);
		let heartbeat = RuntimeCall::Agents(pallet_agents::Call::heartbeat {});
		// Just registered: a heartbeat is not due, so it is ordinary traffic (never refused).
		let ordinary = validate(Bob, &heartbeat).expect("ordinary");
		assert_eq!(ordinary, ValidTransaction::default());
		let half: u32 =
			<<Runtime as pallet_agents::Config>::LivenessPeriod as frame_support::traits::Get<
				u32,
			>>::get() / 2;
		System::set_block_number(System::block_number() + half);
		let duty = validate(Bob, &heartbeat).expect("a due heartbeat is a duty");
		assert_eq!(duty.priority, DUTY_PRIORITY);
		// A stranger's heartbeat, and a transfer, are ordinary: dispatch decides.
		assert_eq!(validate(Alice, &heartbeat), Ok(ValidTransaction::default()));
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: who(Bob).into(),
			value: UNIT,
		});
		assert_eq!(validate(Alice, &transfer), Ok(ValidTransaction::default()));
		// A paused agent is not selected: its heartbeat, due or not, is ordinary traffic.
		dispatch(Bob, RuntimeCall::Agents(pallet_agents::Call::pause {}));
		assert_eq!(validate(Bob, &heartbeat), Ok(ValidTransaction::default()));
	});
}
