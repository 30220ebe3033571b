//! Helpers the AgentChain pallets' benchmarks set their scenes with, through the real runtime:
//! agents registered through the registry, tasks run through the inference pallet.

use super::super::{
	AccountId, Balances, BlockNumber, Inference, Runtime, RuntimeOrigin, System, UNIT,
};

/// Registers benchmark agents (executors, verifiers, curators) through the agent registry, and
/// runs benchmark tasks through the inference pallet.
pub struct RegisterBenchmarkExecutor;
impl pallet_inference::BenchmarkHelper<AccountId> for RegisterBenchmarkExecutor {
	fn register_executor(who: &AccountId, model: agentchain_primitives::ModelId) {
		<Self as pallet_challenges::BenchmarkHelper<AccountId>>::register_agent(
			who,
			model,
			agentchain_primitives::agents::Role::Executor,
		)
	}
}

impl pallet_challenges::BenchmarkHelper<AccountId> for RegisterBenchmarkExecutor {
	fn register_agent(
		who: &AccountId,
		model: agentchain_primitives::ModelId,
		role: agentchain_primitives::agents::Role,
	) {
		use frame_support::traits::fungible::Mutate;
		let _ = Balances::set_balance(who, 1_000_000 * UNIT);
		let registered = pallet_agents::Pallet::<Runtime>::register(
			RuntimeOrigin::signed(who.clone()),
			alloc::vec![],
			alloc::vec![],
			alloc::vec![],
			alloc::vec![model],
			alloc::vec![role],
			1_000 * UNIT,
		);
		debug_assert!(registered.is_ok(), "benchmark agent registers");
	}

	fn revealed_task(
		requester: &AccountId,
		model: agentchain_primitives::ModelId,
		outputs: &[alloc::vec::Vec<u8>],
	) -> u64 {
		use pallet_inference::{TaskInputOf, TaskParams, VerificationMode};
		let id = pallet_inference::NextTaskId::<Runtime>::get();
		let redundancy = outputs.len() as u32;
		let submitted = Inference::submit_task(
			RuntimeOrigin::signed(requester.clone()),
			model,
			TaskInputOf::Inline(alloc::vec![b'p'; 64]),
			TaskParams {
				max_tokens: 64,
				temperature_milli: 0,
				seed: 1,
				mode: VerificationMode::ExactMatch,
			},
			UNIT * u128::from(redundancy),
			redundancy,
			3,
		);
		debug_assert!(submitted.is_ok(), "benchmark task submitted");
		// Executors are drawn at the next block.
		let next = System::block_number().saturating_add(1);
		System::set_block_number(next);
		<Inference as frame_support::traits::Hooks<BlockNumber>>::on_initialize(next);
		let executors: alloc::vec::Vec<AccountId> = pallet_inference::Tasks::<Runtime>::get(id)
			.map(|task| task.assignments.iter().map(|a| a.executor.clone()).collect())
			.unwrap_or_default();
		let salt = [3u8; 32];
		let hash = |bytes: &[u8]| {
			<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(bytes)
		};
		for (executor, output) in executors.iter().zip(outputs) {
			let _ = Inference::commit(
				RuntimeOrigin::signed(executor.clone()),
				id,
				pallet_inference::commitment_of(&hash(output), &salt, executor),
			);
		}
		for (executor, output) in executors.iter().zip(outputs) {
			let _ = Inference::reveal(
				RuntimeOrigin::signed(executor.clone()),
				id,
				hash(output),
				salt,
				Some(output.clone()),
				Some(alloc::vec![b'u'; 64]),
			);
		}
		id
	}
}

impl pallet_data_rewards::BenchmarkHelper<AccountId> for RegisterBenchmarkExecutor {
	fn register_curator(who: &AccountId) {
		<Self as pallet_challenges::BenchmarkHelper<AccountId>>::register_agent(
			who,
			agentchain_primitives::ModelId::zero(),
			agentchain_primitives::agents::Role::Curator,
		)
	}

	fn register_executor(who: &AccountId, model: agentchain_primitives::ModelId) {
		<Self as pallet_inference::BenchmarkHelper<AccountId>>::register_executor(who, model)
	}

	fn deregister(who: &AccountId) {
		let deregistered =
			pallet_agents::Pallet::<Runtime>::deregister(RuntimeOrigin::signed(who.clone()));
		debug_assert!(deregistered.is_ok(), "benchmark agent deregisters");
	}
}
