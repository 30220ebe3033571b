//! Benchmarks of the data-rewards pallet, each at its worst case.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate as _, Hooks};
use frame_system::RawOrigin;

const SEED: u32 = 0;

fn model() -> ModelId {
	ModelId::repeat_byte(0x42)
}

/// Plenty for the deposits of a thousand records.
fn funds<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance()
		.saturating_add(T::DatasetDeposit::get())
		.saturating_add(T::ModelDeposit::get())
		.saturating_mul(1_000u32.into())
}

/// A protocol cut large enough to be shared between the most datasets.
fn cut<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance()
		.saturating_mul(T::MaxDatasetsPerModel::get().into())
		.saturating_mul(100u32.into())
}

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, SEED);
	T::Currency::set_balance(&who, funds::<T>());
	who
}

fn content_hash(n: u32) -> H256 {
	let mut bytes = [0u8; 32];
	bytes[24..].copy_from_slice(&u64::from(n).saturating_add(1).to_be_bytes());
	H256(bytes)
}

fn bytes(len: u32, byte: u8) -> Vec<u8> {
	vec![byte; len as usize]
}

/// Registers a dataset of `owner`, with the longest metadata, and returns its id.
fn dataset<T: Config>(owner: &T::AccountId) -> DatasetId {
	let id = NextDatasetId::<T>::get();
	Pallet::<T>::register_dataset(
		RawOrigin::Signed(owner.clone()).into(),
		content_hash(id as u32),
		bytes(T::MaxUriLen::get(), b'u'),
		bytes(T::MaxLicenseLen::get(), b'l'),
		1_024,
		bytes(T::MaxMetadataLen::get(), b'd'),
	)
	.expect("dataset registers");
	id
}

fn datasets<T: Config>(owner: &T::AccountId, n: u32) -> Vec<DatasetId> {
	(0..n).map(|_| dataset::<T>(owner)).collect()
}

/// An agent serving `model()`, with funds for a model deposit.
fn executor<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("executor", 0, SEED);
	T::AgentRegistry::register_for_benchmark(&who, model(), Role::Executor);
	T::Currency::mint_into(&who, funds::<T>()).expect("executor is funded");
	who
}

fn declare<T: Config>(owner: &T::AccountId, ids: Vec<DatasetId>) {
	Pallet::<T>::declare_model(RawOrigin::Signed(owner.clone()).into(), model(), ids)
		.expect("model is declared");
}

fn protocol<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("protocol", 0, SEED);
	if T::Currency::balance(&who).is_zero() {
		T::Currency::set_balance(&who, funds::<T>());
	}
	who
}

/// A finalised task of `model()`, whose cut was paid into the protocol account.
fn finalise<T: Config>() {
	let protocol = protocol::<T>();
	T::Currency::mint_into(&protocol, cut::<T>()).expect("cut is paid");
	<Pallet<T> as OnTaskFinalised<_, _>>::on_task_finalised(0, &model(), &protocol, cut::<T>());
}

/// Closes the current epoch.
fn next_epoch<T: Config>() {
	let clock = CurrentEpoch::<T>::get();
	let at = clock.start.saturating_add(T::EpochLength::get());
	frame_system::Pallet::<T>::set_block_number(at);
	Pallet::<T>::on_initialize(at);
}

/// A dataset of a model with usage in the last (closed) epoch: touching it settles that epoch.
fn used_dataset<T: Config>() -> (T::AccountId, DatasetId) {
	let owner = funded::<T>("owner");
	let id = dataset::<T>(&owner);
	declare::<T>(&executor::<T>(), vec![id]);
	finalise::<T>();
	next_epoch::<T>();
	(owner, id)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The longest metadata.
	#[benchmark]
	fn register_dataset() {
		let owner = funded::<T>("owner");

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			content_hash(0),
			bytes(T::MaxUriLen::get(), b'u'),
			bytes(T::MaxLicenseLen::get(), b'l'),
			1_024,
			bytes(T::MaxMetadataLen::get(), b'd'),
		);

		assert!(Datasets::<T>::contains_key(0));
	}

	/// The longest metadata.
	#[benchmark]
	fn update_dataset() {
		let owner = funded::<T>("owner");
		let id = dataset::<T>(&owner);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			id,
			bytes(T::MaxUriLen::get(), b'v'),
			bytes(T::MaxLicenseLen::get(), b'm'),
			bytes(T::MaxMetadataLen::get(), b'e'),
		);

		assert_eq!(
			Metadata::<T>::get(id).map(|m| m.uri.to_vec()),
			Some(bytes(T::MaxUriLen::get(), b'v'))
		);
	}

	#[benchmark]
	fn retire_dataset() {
		let owner = funded::<T>("owner");
		let id = dataset::<T>(&owner);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(Datasets::<T>::get(id).is_some_and(|d| d.status != DatasetStatus::Active));
	}

	/// A retired dataset with usage in the closed epoch: settled, paid and removed.
	#[benchmark]
	fn remove_dataset() {
		let (owner, id) = {
			let owner = funded::<T>("owner");
			let id = dataset::<T>(&owner);
			let executor = executor::<T>();
			declare::<T>(&executor, vec![id]);
			finalise::<T>();
			Pallet::<T>::retire_dataset(RawOrigin::Signed(owner.clone()).into(), id)
				.expect("owner retires");
			Pallet::<T>::remove_model(RawOrigin::Signed(executor).into(), model())
				.expect("owner removes the model");
			next_epoch::<T>();
			(owner, id)
		};

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(!Datasets::<T>::contains_key(id));
	}

	/// A new record naming `n` datasets.
	#[benchmark]
	fn declare_model(n: Linear<1, { T::MaxDatasetsPerModel::get() }>) {
		let ids = datasets::<T>(&funded::<T>("owner"), n);
		let executor = executor::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(executor), model(), ids);

		assert_eq!(Models::<T>::get(model()).map(|r| r.datasets.len() as u32), Some(n));
	}

	/// A full record taken over by another executor of the model, with more stake, and replaced
	/// by `n` other datasets: the worst of replacing a record.
	#[benchmark]
	fn redeclare_model(n: Linear<1, { T::MaxDatasetsPerModel::get() }>) {
		let owner = funded::<T>("owner");
		let executor = executor::<T>();
		declare::<T>(&executor, datasets::<T>(&owner, T::MaxDatasetsPerModel::get()));
		let ids = datasets::<T>(&owner, n);
		let challenger: T::AccountId = account("executor", 1, SEED);
		T::AgentRegistry::register_for_benchmark(&challenger, model(), Role::Executor);
		T::Currency::mint_into(&challenger, funds::<T>()).expect("executor is funded");
		// The record's owner stops serving the model.
		T::AgentRegistry::deregister_for_benchmark(&executor);

		#[extrinsic_call]
		declare_model(RawOrigin::Signed(challenger.clone()), model(), ids.clone());

		let record = Models::<T>::get(model());
		assert_eq!(record.as_ref().map(|r| r.datasets.to_vec()), Some(ids));
		assert_eq!(record.map(|r| r.owner), Some(challenger));
	}

	/// A full record.
	#[benchmark]
	fn remove_model() {
		let executor = executor::<T>();
		declare::<T>(
			&executor,
			datasets::<T>(&funded::<T>("owner"), T::MaxDatasetsPerModel::get()),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(executor), model());

		assert!(!Models::<T>::contains_key(model()));
	}

	/// The last dataset of a full record.
	#[benchmark]
	fn unlink_retired() {
		let owner = funded::<T>("owner");
		let ids = datasets::<T>(&owner, T::MaxDatasetsPerModel::get());
		declare::<T>(&executor::<T>(), ids.clone());
		let last = ids.last().copied().unwrap_or_default();
		Pallet::<T>::retire_dataset(RawOrigin::Signed(owner).into(), last).expect("owner retires");
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), model(), last);

		assert!(Datasets::<T>::get(last).is_some_and(|d| d.models == 0));
	}

	/// The dataset's previous epoch is settled first.
	#[benchmark]
	fn attest() {
		let (_, id) = used_dataset::<T>();
		let curator: T::AccountId = account("curator", 0, SEED);
		T::AgentRegistry::register_for_benchmark(&curator, ModelId::zero(), Role::Curator);

		#[extrinsic_call]
		_(RawOrigin::Signed(curator.clone()), id, MAX_SCORE);

		let epoch = Pallet::<T>::current_epoch();
		assert!(Attestations::<T>::contains_key(epoch, (id, curator)));
	}

	/// The dataset's previous epoch is settled, then paid.
	#[benchmark]
	fn claim() {
		let (owner, id) = used_dataset::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(Datasets::<T>::get(id).is_some_and(|d| d.ledger.owed.is_zero()));
	}

	/// A finalised task of a model naming `d` datasets, each with usage in the closed epoch to
	/// settle first.
	#[benchmark]
	fn on_task_finalised(d: Linear<1, { T::MaxDatasetsPerModel::get() }>) {
		let ids = datasets::<T>(&funded::<T>("owner"), d);
		declare::<T>(&executor::<T>(), ids.clone());
		finalise::<T>();
		next_epoch::<T>();
		let protocol = protocol::<T>();
		T::Currency::mint_into(&protocol, cut::<T>()).expect("cut is paid");
		let epoch = Pallet::<T>::current_epoch();

		#[block]
		{
			<Pallet<T> as OnTaskFinalised<_, _>>::on_task_finalised(
				1,
				&model(),
				&protocol,
				cut::<T>(),
			);
		}

		for id in ids {
			assert!(Datasets::<T>::get(id).is_some_and(|i| i.ledger.epoch == epoch));
		}
		assert!(Epochs::<T>::get(epoch).is_some_and(|e| !e.paid_in.is_zero()));
	}

	/// A block inside an epoch.
	#[benchmark]
	fn on_initialize_idle() {
		let clock = CurrentEpoch::<T>::get();
		let block = clock.start;

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}

		assert_eq!(CurrentEpoch::<T>::get(), clock);
	}

	/// An epoch closes with weighted usage: its pot is topped up from the reserve and from
	/// issuance, and two epochs expire.
	#[benchmark]
	fn on_initialize_epoch() {
		let current = T::ClaimPeriod::get().saturating_add(1);
		CurrentEpoch::<T>::put(EpochClock { index: current, start: Zero::zero() });
		let unit = T::Currency::minimum_balance().saturating_mul(10u32.into());
		let pot = Pallet::<T>::account_id();
		for epoch in 0..2 {
			Epochs::<T>::insert(
				epoch,
				EpochInfo {
					paid_in: unit,
					cut: unit.saturating_mul(2u32.into()),
					total_weight: 1,
					pot: unit,
					settled: Zero::zero(),
				},
			);
		}
		Epochs::<T>::insert(
			current,
			EpochInfo {
				paid_in: unit,
				cut: unit.saturating_mul(4u32.into()),
				total_weight: 1,
				pot: Zero::zero(),
				settled: Zero::zero(),
			},
		);
		Reserve::<T>::put(unit);
		T::Currency::set_balance(&pot, unit.saturating_mul(5u32.into()));
		let block = T::EpochLength::get();

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}

		assert_eq!(Pallet::<T>::current_epoch(), current.saturating_add(1));
		assert_eq!(ExpiryCursor::<T>::get(), 2);
	}

	/// `n` attestations of a past epoch judged, each an outlier: every curator is slashed and
	/// released.
	#[benchmark]
	fn judge_attestations(n: Linear<1, JUDGED_PER_BLOCK>) {
		let owner = funded::<T>("owner");
		let collateral = T::CurationPenalty::get();
		let mut datasets = Vec::new();
		for i in 0..n {
			let curator: T::AccountId = account("curator", i, SEED);
			T::AgentRegistry::register_for_benchmark(&curator, ModelId::zero(), Role::Curator);
			let id = dataset::<T>(&owner);
			T::AgentRegistry::note_work_opened(&curator, collateral, 0)
				.expect("curator has free stake");
			Attestations::<T>::insert(0, (id, curator), Attestation { score: 0, collateral });
			FinalScores::<T>::insert(0, id, MAX_SCORE);
			datasets.push(id);
		}
		CurrentEpoch::<T>::put(EpochClock { index: 1, start: Zero::zero() });

		#[block]
		{
			Pallet::<T>::judge_attestations(1, n);
		}

		assert_eq!(Attestations::<T>::iter_prefix(0).count(), 0);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
