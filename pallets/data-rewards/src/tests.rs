//! Unit tests of the data-rewards pallet, with the real agent registry.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect as _, InspectHold as _},
		Hooks,
	},
};
use sp_runtime::traits::BadOrigin;

fn hash(n: u8) -> H256 {
	H256::repeat_byte(n)
}

/// Registers a dataset of `owner` whose content hash is `hash(n)`.
fn register(owner: u64, n: u8) -> DatasetId {
	let id = NextDatasetId::<Test>::get();
	assert_ok!(DataRewards::register_dataset(
		RuntimeOrigin::signed(owner),
		hash(n),
		b"ipfs://data".to_vec(),
		b"CC-BY-4.0".to_vec(),
		1_024,
		b"a dataset".to_vec(),
	));
	id
}

fn declare(model: ModelId, datasets: Vec<DatasetId>) {
	assert_ok!(DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR), model, datasets));
}

fn attest(curator: u64, dataset: DatasetId, score: u8) {
	assert_ok!(DataRewards::attest(RuntimeOrigin::signed(curator), dataset, score));
}

fn dataset(id: DatasetId) -> DatasetInfo<Test> {
	Datasets::<Test>::get(id).expect("dataset exists")
}

fn ledger(id: DatasetId) -> Ledger<u64> {
	dataset(id).ledger
}

fn totals(epoch: EpochIndex) -> EpochInfo<u64> {
	Epochs::<Test>::get(epoch).unwrap_or_default()
}

fn pot() -> u64 {
	Balances::balance(&DataRewards::account_id())
}

fn free(who: u64) -> u64 {
	Balances::balance(&who)
}

fn dataset_deposit(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::DatasetDeposit.into(), &who)
}

fn model_deposit(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn claim(owner: u64, id: DatasetId) -> u64 {
	let before = free(owner);
	assert_ok!(DataRewards::claim(RuntimeOrigin::signed(owner), id));
	free(owner) - before
}

fn event(event: Event<Test>) {
	System::assert_has_event(event.into());
}

// --- genesis, hooks, configuration ---

#[test]
fn genesis_funds_the_pot_with_the_existential_deposit() {
	run_test(|| {
		assert_eq!(pot(), Balances::minimum_balance());
		assert_eq!(DataRewards::current_epoch(), 0);
		DataRewards::integrity_test();
	});
}

#[test]
fn epochs_roll_every_epoch_length_blocks() {
	run_test(|| {
		run_to_block(EPOCH_LENGTH - 1);
		assert_eq!(DataRewards::current_epoch(), 0);
		run_to_block(EPOCH_LENGTH);
		assert_eq!(CurrentEpoch::<Test>::get(), EpochClock { index: 1, start: EPOCH_LENGTH });
		event(Event::EpochClosed { epoch: 0, pot: 0, from_reserve: 0, minted: 0 });
		run_to_block(3 * EPOCH_LENGTH);
		assert_eq!(DataRewards::current_epoch(), 3);
		assert_eq!(DataRewards::epoch_status().0, 3);
		assert_eq!(DataRewards::epoch_status().1, 3 * EPOCH_LENGTH);
	});
}

#[test]
fn max_weight_is_the_credit_of_a_full_model() {
	run_test(|| {
		assert_eq!(
			<DataRewards as OnTaskFinalised<u64, u64>>::max_weight(),
			<() as WeightInfo>::on_task_finalised(MAX_DATASETS)
		);
	});
}

// --- datasets ---

#[test]
fn register_dataset_holds_the_deposit_and_indexes_the_hash() {
	run_test(|| {
		let a = register(ALICE, 1);
		assert_eq!(a, 0);
		let info = dataset(a);
		assert_eq!(info.owner, ALICE);
		assert_eq!(info.content_hash, hash(1));
		assert_eq!(info.size, 1_024);
		assert_eq!(info.deposit, DATASET_DEPOSIT);
		assert_eq!(info.status, DatasetStatus::Active);
		assert_eq!(dataset_deposit(ALICE), DATASET_DEPOSIT);
		assert_eq!(free(ALICE), 10_000 - DATASET_DEPOSIT);
		assert_eq!(DatasetByHash::<Test>::get(hash(1)), Some(a));
		let metadata = Metadata::<Test>::get(a).unwrap();
		assert_eq!(metadata.uri.to_vec(), b"ipfs://data".to_vec());
		assert_eq!(metadata.license.to_vec(), b"CC-BY-4.0".to_vec());
		event(Event::DatasetRegistered {
			dataset: a,
			owner: ALICE,
			content_hash: hash(1),
			size: 1_024,
			deposit: DATASET_DEPOSIT,
		});
		assert_eq!(register(BOB, 2), 1);
	});
}

#[test]
fn the_same_data_cannot_be_registered_twice() {
	run_test(|| {
		register(ALICE, 1);
		for who in [ALICE, BOB] {
			assert_noop!(
				DataRewards::register_dataset(
					RuntimeOrigin::signed(who),
					hash(1),
					b"elsewhere".to_vec(),
					vec![],
					7,
					vec![],
				),
				Error::<Test>::DatasetExists
			);
		}
	});
}

#[test]
fn register_dataset_rejects_bad_input() {
	run_test(|| {
		let call = |who: u64, uri: usize, license: usize, description: usize, size: u64| {
			DataRewards::register_dataset(
				RuntimeOrigin::signed(who),
				hash(9),
				vec![b'u'; uri],
				vec![b'l'; license],
				size,
				vec![b'd'; description],
			)
		};
		assert_noop!(call(ALICE, 1, 1, 1, 0), Error::<Test>::EmptyDataset);
		assert_noop!(call(ALICE, 33, 1, 1, 1), Error::<Test>::UriTooLong);
		assert_noop!(call(ALICE, 1, 17, 1, 1), Error::<Test>::LicenseTooLong);
		assert_noop!(call(ALICE, 1, 1, 65, 1), Error::<Test>::MetadataTooLong);
		assert_noop!(call(POOR, 1, 1, 1, 1), Error::<Test>::InsufficientBalance);
		assert_noop!(
			DataRewards::register_dataset(
				RuntimeOrigin::none(),
				hash(9),
				vec![],
				vec![],
				1,
				vec![]
			),
			BadOrigin
		);
		assert_noop!(
			DataRewards::register_dataset(
				RuntimeOrigin::root(),
				hash(9),
				vec![],
				vec![],
				1,
				vec![]
			),
			BadOrigin
		);
		// At the bounds it works.
		assert_ok!(call(ALICE, 32, 16, 64, 1));
	});
}

#[test]
fn only_the_owner_updates_a_live_dataset() {
	run_test(|| {
		let a = register(ALICE, 1);
		let update = |who: u64, id: DatasetId, uri: &[u8]| {
			DataRewards::update_dataset(
				RuntimeOrigin::signed(who),
				id,
				uri.to_vec(),
				b"MIT".to_vec(),
				b"new".to_vec(),
			)
		};
		assert_noop!(update(BOB, a, b"x"), Error::<Test>::NotOwner);
		assert_noop!(update(ALICE, 7, b"x"), Error::<Test>::UnknownDataset);
		assert_noop!(update(ALICE, a, &[b'u'; 33]), Error::<Test>::UriTooLong);
		assert_noop!(
			DataRewards::update_dataset(RuntimeOrigin::none(), a, vec![], vec![], vec![]),
			BadOrigin
		);
		assert_ok!(update(ALICE, a, b"https://mirror"));
		assert_eq!(Metadata::<Test>::get(a).unwrap().uri.to_vec(), b"https://mirror".to_vec());
		assert_eq!(Metadata::<Test>::get(a).unwrap().license.to_vec(), b"MIT".to_vec());
		event(Event::DatasetUpdated { dataset: a });

		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a));
		assert_noop!(update(ALICE, a, b"x"), Error::<Test>::Retired);
	});
}

#[test]
fn retire_dataset_checks_owner_and_status() {
	run_test(|| {
		let a = register(ALICE, 1);
		assert_noop!(
			DataRewards::retire_dataset(RuntimeOrigin::signed(BOB), a),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), 5),
			Error::<Test>::UnknownDataset
		);
		assert_noop!(DataRewards::retire_dataset(RuntimeOrigin::root(), a), BadOrigin);
		next_epoch();
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a));
		assert_eq!(dataset(a).status, DatasetStatus::Retired { since: 1 });
		event(Event::DatasetRetired { dataset: a, epoch: 1 });
		assert_noop!(
			DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::Retired
		);
		// The deposit stays held until the dataset is removed.
		assert_eq!(dataset_deposit(ALICE), DATASET_DEPOSIT);
	});
}

// --- model records ---

#[test]
fn only_an_executor_serving_the_model_creates_its_record() {
	run_test(|| {
		let a = register(ALICE, 1);
		// Not an agent; a curator; an executor of another model; an operator key.
		for who in [ALICE, CURATOR, EXECUTOR2, CURATOR_OPERATOR] {
			assert_noop!(
				DataRewards::declare_model(RuntimeOrigin::signed(who), model(), vec![a]),
				Error::<Test>::NotModelExecutor
			);
		}
		assert_noop!(
			DataRewards::declare_model(RuntimeOrigin::none(), model(), vec![a]),
			BadOrigin
		);
		// A paused executor does not serve it either.
		assert_ok!(Agents::pause(RuntimeOrigin::signed(EXECUTOR)));
		assert_noop!(
			DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR), model(), vec![a]),
			Error::<Test>::NotModelExecutor
		);
		assert_ok!(Agents::resume(RuntimeOrigin::signed(EXECUTOR)));

		declare(model(), vec![a]);
		let record = Models::<Test>::get(model()).unwrap();
		assert_eq!(record.owner, EXECUTOR);
		assert_eq!(record.datasets.to_vec(), vec![a]);
		assert_eq!(record.deposit, MODEL_DEPOSIT);
		assert_eq!(model_deposit(EXECUTOR), MODEL_DEPOSIT);
		assert_eq!(dataset(a).models, 1);
		event(Event::ModelDeclared {
			model: model(),
			owner: EXECUTOR,
			datasets: vec![a].try_into().unwrap(),
		});
	});
}

#[test]
fn declare_model_rejects_bad_lists() {
	run_test(|| {
		let ids: Vec<_> = (1..=5).map(|n| register(ALICE, n)).collect();
		let call = |datasets: Vec<DatasetId>| {
			DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR), model(), datasets)
		};
		assert_noop!(call(vec![]), Error::<Test>::NoDatasets);
		assert_noop!(call(ids.clone()), Error::<Test>::TooManyDatasets);
		assert_noop!(call(vec![ids[0], ids[1], ids[0]]), Error::<Test>::DuplicateDataset);
		assert_noop!(call(vec![ids[0], 42]), Error::<Test>::UnknownDataset);
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), ids[4]));
		assert_noop!(call(vec![ids[0], ids[4]]), Error::<Test>::Retired);
		// Unsorted input is stored sorted.
		assert_ok!(call(vec![ids[3], ids[0], ids[2], ids[1]]));
		assert_eq!(Models::<Test>::get(model()).unwrap().datasets.to_vec(), ids[..4].to_vec());
	});
}

#[test]
fn declare_model_needs_the_deposit() {
	run_test(|| {
		let a = register(ALICE, 1);
		// Leave the executor unable to pay the model deposit.
		let spare = free(EXECUTOR) - 1;
		assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(EXECUTOR), ALICE, spare));
		assert_noop!(
			DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR), model(), vec![a]),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn only_the_record_owner_replaces_or_removes_it() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		let c = register(BOB, 3);
		declare(model2(), vec![a, b]);
		// EXECUTOR2 serves model2 too, but the record is EXECUTOR's, which serves it with as
		// much stake.
		assert_noop!(
			DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR2), model2(), vec![c]),
			Error::<Test>::RecordHeld
		);
		assert_noop!(
			DataRewards::remove_model(RuntimeOrigin::signed(EXECUTOR2), model2()),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			DataRewards::remove_model(RuntimeOrigin::signed(EXECUTOR), model()),
			Error::<Test>::UnknownModel
		);
		assert_noop!(DataRewards::remove_model(RuntimeOrigin::none(), model2()), BadOrigin);

		// Replacing the list moves the counts and keeps the one deposit.
		declare(model2(), vec![b, c]);
		assert_eq!((dataset(a).models, dataset(b).models, dataset(c).models), (0, 1, 1));
		assert_eq!(model_deposit(EXECUTOR), MODEL_DEPOSIT);

		assert_ok!(DataRewards::remove_model(RuntimeOrigin::signed(EXECUTOR), model2()));
		assert!(Models::<Test>::get(model2()).is_none());
		assert_eq!((dataset(b).models, dataset(c).models), (0, 0));
		assert_eq!(model_deposit(EXECUTOR), 0);
		event(Event::ModelRemoved { model: model2() });
	});
}

// --- usage attribution ---

#[test]
fn finalised_tasks_credit_the_models_datasets() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		let c = register(BOB, 3);
		declare(model(), vec![a, b]);
		let pot_before = pot();

		// Cut 101: 50 moves into the pot (50 % rounded down), 25 per dataset; the cut is
		// attributed 51 / 50 (the first dataset takes the remainder).
		finalise(7, model(), 101);
		assert_eq!(pot(), pot_before + 50);
		assert_eq!(free(PROTOCOL), 1_000 + 101 - 50);
		assert_eq!((ledger(a).usage, ledger(a).cut), (25, 51));
		assert_eq!((ledger(b).usage, ledger(b).cut), (25, 50));
		// Unrated datasets weigh usage × 50 / 100, rounded down.
		assert_eq!(ledger(a).weight(MinCurators::get()), 12);
		assert_eq!(
			totals(0),
			EpochInfo { paid_in: 50, cut: 101, total_weight: 24, ..Default::default() }
		);
		event(Event::UsageCredited { task: 7, model: model(), amount: 50, datasets: 2 });

		// Three datasets: 50 → 18 + 16 + 16.
		declare(model(), vec![a, b, c]);
		finalise(8, model(), 100);
		assert_eq!(ledger(a).usage, 25 + 18);
		assert_eq!(ledger(b).usage, 25 + 16);
		assert_eq!(ledger(c).usage, 16);
		assert_eq!(totals(0).paid_in, 100);
		assert_eq!(totals(0).cut, 201);
	});
}

#[test]
fn models_without_live_datasets_credit_nothing() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		let pot_before = pot();
		// No record for the model.
		finalise(1, model(), 100);
		// A cut too small to share.
		declare(model(), vec![a, b]);
		finalise(2, model(), 1);
		assert_eq!(pot(), pot_before);
		// One retired dataset: the live one gets everything.
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a));
		finalise(3, model(), 100);
		assert_eq!(pot(), pot_before + 50);
		assert_eq!(ledger(a).usage, 0);
		assert_eq!((ledger(b).usage, ledger(b).cut), (50, 100));
		// Both retired: nothing moves.
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(BOB), b));
		finalise(4, model(), 100);
		assert_eq!(pot(), pot_before + 50);
		assert_eq!(totals(0).paid_in, 50);
	});
}

#[test]
fn a_failed_transfer_credits_nothing() {
	run_test(|| {
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		let empty_protocol = 77;
		let pot_before = pot();
		<DataRewards as OnTaskFinalised<u64, u64>>::on_task_finalised(
			5,
			&model(),
			&empty_protocol,
			100,
		);
		assert_eq!(pot(), pot_before);
		assert_eq!(ledger(a).usage, 0);
		assert!(Epochs::<Test>::get(0).is_none());
		event(Event::UsageNotCredited { task: 5, model: model(), amount: 50 });
	});
}

// --- curation ---

#[test]
fn curators_attest_weighted_by_stake() {
	run_test(|| {
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		finalise(1, model(), 200);
		assert_eq!(ledger(a).weight(MinCurators::get()), 50);
		// Through its operator key: counts for CURATOR (stake 100).
		attest(CURATOR_OPERATOR, a, 80);
		event(Event::DatasetAttested {
			dataset: a,
			curator: CURATOR,
			epoch: 0,
			score: 80,
			stake: CURATOR_STAKE,
		});
		assert_eq!(ledger(a).weight(MinCurators::get()), 80);
		// Stake 300 at 40: the stake-weighted median is 40 (the mean would be 50: the larger
		// stake decides, and a minority cannot drag the score).
		attest(CURATOR2, a, 40);
		assert_eq!(ledger(a).scores.curators, 2);
		assert_eq!(ledger(a).scores.stake[4], 300);
		assert_eq!(ledger(a).scores.stake[8], 100);
		assert_eq!(ledger(a).weight(MinCurators::get()), 40);
		assert_eq!(totals(0).total_weight, 40);
		assert_eq!(
			Attestations::<Test>::get(0, (a, CURATOR)),
			Some(Attestation { score: 80, collateral: CURATION_PENALTY })
		);
		// Each attestation reserves the curator's penalty.
		assert_eq!(
			pallet_agents::Registry::<Test>::get(CURATOR).unwrap().collateral,
			CURATION_PENALTY
		);

		// Once per epoch, whichever key signs.
		for signer in [CURATOR, CURATOR_OPERATOR] {
			assert_noop!(
				DataRewards::attest(RuntimeOrigin::signed(signer), a, 10),
				Error::<Test>::AlreadyAttested
			);
		}
		// The epoch over, its attestations are judged: 80 is more than 30 points from the
		// median 40, and CURATOR loses its penalty (which takes it below the curator minimum).
		next_epoch();
		event(Event::CuratorPenalised {
			dataset: a,
			curator: CURATOR,
			epoch: 0,
			score: 80,
			median: 40,
			slashed: CURATION_PENALTY,
		});
		assert_noop!(
			DataRewards::attest(RuntimeOrigin::signed(CURATOR), a, 10),
			Error::<Test>::NotCurator
		);
		// Staked again, it attests again in the new epoch.
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(CURATOR), CURATION_PENALTY));
		attest(CURATOR, a, 10);
	});
}

#[test]
fn attest_rejects_non_curators_and_bad_input() {
	run_test(|| {
		let a = register(ALICE, 1);
		let own = register(CURATOR, 2);
		let call = |who: u64, id: DatasetId, score: u8| {
			DataRewards::attest(RuntimeOrigin::signed(who), id, score)
		};
		assert_noop!(call(CURATOR, a, 101), Error::<Test>::InvalidScore);
		// Not an agent; an agent without the curator role.
		assert_noop!(call(ALICE, a, 50), Error::<Test>::NotCurator);
		assert_noop!(call(NOT_CURATOR, a, 50), Error::<Test>::NotCurator);
		assert_noop!(call(CURATOR, 9, 50), Error::<Test>::UnknownDataset);
		assert_noop!(call(CURATOR, own, 50), Error::<Test>::OwnDataset);
		assert_noop!(call(CURATOR_OPERATOR, own, 50), Error::<Test>::OwnDataset);
		assert_noop!(DataRewards::attest(RuntimeOrigin::none(), a, 50), BadOrigin);
		assert_noop!(DataRewards::attest(RuntimeOrigin::root(), a, 50), BadOrigin);
		// A paused curator is not active.
		assert_ok!(Agents::pause(RuntimeOrigin::signed(CURATOR2)));
		assert_noop!(call(CURATOR2, a, 50), Error::<Test>::NotCurator);
		// Neither is one whose stake is unbonding after deregistration (not staked).
		assert_ok!(Agents::deregister(RuntimeOrigin::signed(CURATOR)));
		assert_noop!(call(CURATOR, a, 50), Error::<Test>::NotCurator);
		assert_noop!(call(CURATOR_OPERATOR, a, 50), Error::<Test>::NotCurator);
		// Retired datasets take no attestations.
		assert_ok!(Agents::resume(RuntimeOrigin::signed(CURATOR2)));
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a));
		assert_noop!(call(CURATOR2, a, 50), Error::<Test>::Retired);
	});
}

// --- rewards ---

#[test]
fn whole_flow_register_declare_use_curate_close_claim() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		declare(model(), vec![a]);
		declare(model2(), vec![b]);
		// Epoch 0: each model's tasks pay a cut of 200, of which 100 moves into the pot.
		finalise(1, model(), 120);
		finalise(2, model(), 80);
		finalise(3, model2(), 200);
		assert_eq!(totals(0).paid_in, 200);
		// Scores: a's median (stake 100 at 60, stake 300 at 40) = 40 → weight 40; b = 20 →
		// weight 20.
		attest(CURATOR, a, 60);
		attest(CURATOR2, a, 40);
		attest(CURATOR, b, 20);
		assert_eq!(totals(0).total_weight, 60);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::EpochNotOver
		);
		assert_eq!(DataRewards::pending_rewards(a), Some(0));

		next_epoch();
		event(Event::EpochClosed { epoch: 0, pot: 200, from_reserve: 0, minted: 0 });
		// a: min(200 × 40 / 60, 200 × 100 / 200, 200) = min(133, 100, 200) = 100.
		// b: min(200 × 20 / 60, 100, 200) = 66: below the mean score, it is cut back.
		assert_eq!(DataRewards::pending_rewards(a), Some(100));
		assert_eq!(DataRewards::pending_rewards(b), Some(66));
		assert_eq!(DataRewards::pending_rewards(99), None);

		assert_eq!(claim(ALICE, a), 100);
		event(Event::RewardSettled { dataset: a, epoch: 0, reward: 100 });
		event(Event::RewardsClaimed { dataset: a, owner: ALICE, amount: 100 });
		assert_eq!(claim(BOB, b), 66);
		assert_eq!(totals(0).settled, 166);
		// Claim twice: nothing more.
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(BOB), b),
			Error::<Test>::NothingToClaim
		);

		// When epoch 0's claim period ends, what scores withheld goes to the reserve.
		next_epoch();
		assert!(Epochs::<Test>::get(0).is_some());
		next_epoch();
		assert!(Epochs::<Test>::get(0).is_none());
		event(Event::EpochExpired { epoch: 0, unclaimed: 34 });
		assert_eq!(Reserve::<Test>::get(), 34);
		assert_eq!(pot(), Balances::minimum_balance() + 34);
	});
}

#[test]
fn rewards_split_by_usage_when_unrated() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		declare(model(), vec![a]);
		declare(model2(), vec![b]);
		finalise(1, model(), 600);
		finalise(2, model2(), 200);
		next_epoch();
		// Weights 150 and 50 of 200; usage 300 and 100 of a pot of 400.
		assert_eq!(claim(ALICE, a), 300);
		assert_eq!(claim(BOB, b), 100);
		assert_eq!(pot(), Balances::minimum_balance());
	});
}

#[test]
fn a_zero_score_earns_nothing_and_rounding_never_overpays() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		let c = register(BOB, 3);
		declare(model(), vec![a, b, c]);
		finalise(1, model(), 203); // 101 → 35 + 33 + 33
		attest(CURATOR, a, 77);
		attest(CURATOR2, b, 33);
		attest(CURATOR, c, 0);
		next_epoch();
		// Weights: a 35 × 77 / 100 = 26, b 33 × 33 / 100 = 10, c 0. Total 36; pot 101.
		// a: min(101 × 26 / 36 = 72, 101 × 35 / 101 = 35, cut 69) = 35.
		// b: min(101 × 10 / 36 = 28, 33, 67) = 28.
		assert_eq!(claim(ALICE, a), 35);
		assert_eq!(claim(BOB, b), 28);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(BOB), c),
			Error::<Test>::NothingToClaim
		);
		assert_eq!(totals(0).settled, 63);
		assert!(totals(0).settled <= totals(0).pot);
	});
}

#[test]
fn wash_usage_never_pays() {
	run_test(|| {
		// The attacker owns dataset `a`, executor EXECUTOR (which declares its model), and the
		// colluding curator CURATOR2; it requests tasks of its own model and pays its own
		// executor. BOB's dataset `b` has honest usage.
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		declare(model(), vec![a]);
		assert_ok!(DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR2), model2(), vec![b]));
		let attacker = || free(ALICE) + free(EXECUTOR);
		let before = attacker();
		// Five tasks with a fee of 1_000: 900 to the attacker's executor, a cut of 100 to the
		// protocol account.
		for task in 0..5 {
			assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(ALICE), EXECUTOR, 900));
			assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(ALICE), PROTOCOL, 100));
			<DataRewards as OnTaskFinalised<u64, u64>>::on_task_finalised(
				task,
				&model(),
				&PROTOCOL,
				100,
			);
		}
		finalise(9, model2(), 2_000);
		// The colluding curator rates the attacker's data 100 and the honest data 0.
		attest(CURATOR2, a, 100);
		attest(CURATOR, b, 0);
		next_epoch();
		// a's weight share is the whole pot (1_250), but it gets its usage share: 250, the
		// usage share of the cut it paid (500). b gets nothing; nothing moves from b to a.
		let reward = claim(ALICE, a);
		assert_eq!(reward, 250);
		assert_eq!(reward, Perbill::from_percent(USAGE_SHARE_PERCENT) * 500);
		assert!(attacker() < before);
		assert_eq!(before - attacker(), 500 - 250);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(BOB), b),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn with_issuance_wash_usage_gets_back_at_most_the_cut_it_paid() {
	run_test(|| {
		Issuance::set(1_000);
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		let issuance = Balances::total_issuance();
		finalise(1, model(), 100);
		attest(CURATOR, a, 100);
		next_epoch();
		// Room up to the cut: 100 − 50 = 50 minted, not 1_000.
		event(Event::EpochClosed { epoch: 0, pot: 100, from_reserve: 0, minted: 50 });
		assert_eq!(Balances::total_issuance(), issuance + 100 + 50);
		assert_eq!(claim(ALICE, a), 100);
	});
}

#[test]
fn issuance_is_minted_only_for_epochs_with_weighted_usage() {
	run_test(|| {
		Issuance::set(1_000);
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		let issuance = Balances::total_issuance();
		// No usage.
		next_epoch();
		assert_eq!(Balances::total_issuance(), issuance);
		// Usage, but a score of zero: the intake goes to the reserve, nothing is minted.
		finalise(1, model(), 100);
		attest(CURATOR, a, 0);
		next_epoch();
		event(Event::EpochClosed { epoch: 1, pot: 0, from_reserve: 0, minted: 0 });
		assert_eq!(Balances::total_issuance(), issuance + 100);
		assert_eq!(Reserve::<Test>::get(), 50);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn the_reserve_tops_up_later_pots_within_the_cut() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		declare(model(), vec![a]);
		declare(model2(), vec![b]);
		finalise(1, model(), 200);
		finalise(2, model2(), 200);
		attest(CURATOR, a, 100);
		attest(CURATOR, b, 0);
		next_epoch();
		assert_eq!(claim(ALICE, a), 100);
		// b's 100 was withheld; it reaches the reserve when epoch 0 expires (epoch 3).
		next_epoch();
		next_epoch();
		assert_eq!(Reserve::<Test>::get(), 100);
		// Epoch 3: a cut of 120 moves 60; the pot is topped up by 60 from the reserve.
		finalise(3, model(), 120);
		next_epoch();
		event(Event::EpochClosed { epoch: 3, pot: 120, from_reserve: 60, minted: 0 });
		assert_eq!(Reserve::<Test>::get(), 40);
		assert_eq!(claim(ALICE, a), 120);
	});
}

#[test]
fn unclaimed_rewards_expire_after_the_claim_period() {
	run_test(|| {
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		finalise(1, model(), 100);
		next_epoch();
		assert_eq!(DataRewards::pending_rewards(a), Some(50));
		next_epoch();
		assert_eq!(DataRewards::pending_rewards(a), Some(50));
		next_epoch();
		event(Event::EpochExpired { epoch: 0, unclaimed: 50 });
		assert_eq!(DataRewards::pending_rewards(a), Some(0));
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::NothingToClaim
		);
		assert_eq!(Reserve::<Test>::get(), 50);
		// The next activity notes the expiry and starts afresh.
		finalise(2, model(), 100);
		event(Event::RewardExpired { dataset: a, epoch: 0 });
		assert_eq!(ledger(a).epoch, 3);
	});
}

#[test]
fn settled_rewards_stay_owed_across_epochs() {
	run_test(|| {
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		finalise(1, model(), 100);
		next_epoch();
		// Usage in epoch 1 settles epoch 0 (50) into what `a` is owed.
		finalise(2, model(), 40);
		assert_eq!(ledger(a).owed, 50);
		assert_eq!(ledger(a).epoch, 1);
		// Only the current epoch is active: the claim pays the settled part.
		assert_eq!(claim(ALICE, a), 50);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::EpochNotOver
		);
		next_epoch();
		assert_eq!(claim(ALICE, a), 20);
	});
}

#[test]
fn claim_rejects_strangers_and_empty_ledgers() {
	run_test(|| {
		let a = register(ALICE, 1);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), 3),
			Error::<Test>::UnknownDataset
		);
		assert_noop!(DataRewards::claim(RuntimeOrigin::signed(BOB), a), Error::<Test>::NotOwner);
		assert_noop!(DataRewards::claim(RuntimeOrigin::none(), a), BadOrigin);
		assert_noop!(DataRewards::claim(RuntimeOrigin::root(), a), BadOrigin);
		// Nothing owed.
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::NothingToClaim
		);
		next_epoch();
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::NothingToClaim
		);
		// An attestation alone earns nothing either.
		attest(CURATOR, a, 90);
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::EpochNotOver
		);
		next_epoch();
		assert_noop!(
			DataRewards::claim(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::NothingToClaim
		);
	});
}

// --- retirement and removal ---

#[test]
fn a_retired_dataset_keeps_what_it_earned_and_earns_nothing_new() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		declare(model(), vec![a, b]);
		finalise(1, model(), 200);
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a));
		// Later tasks of the epoch credit only b.
		finalise(2, model(), 100);
		assert_eq!(ledger(a).usage, 50);
		assert_eq!(ledger(b).usage, 100);
		assert_noop!(
			DataRewards::attest(RuntimeOrigin::signed(CURATOR), a, 90),
			Error::<Test>::Retired
		);
		next_epoch();
		finalise(3, model(), 100);
		// a is not touched any more: its ledger still holds epoch 0.
		assert_eq!((ledger(a).epoch, ledger(a).usage), (0, 50));
		assert_eq!((ledger(b).epoch, ledger(b).usage, ledger(b).owed), (1, 50, 100));
		// a earned 50 of a pot of 150 in epoch 0 (weights 25 and 50).
		assert_eq!(claim(ALICE, a), 50);
		assert_eq!(claim(BOB, b), 100);
	});
}

#[test]
fn removing_a_retired_dataset_pays_it_and_returns_the_deposit() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		declare(model(), vec![a, b]);
		finalise(1, model(), 200);
		let remove =
			|who: u64, id: DatasetId| DataRewards::remove_dataset(RuntimeOrigin::signed(who), id);
		assert_noop!(remove(ALICE, a), Error::<Test>::NotRetired);
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a));
		assert_noop!(remove(BOB, a), Error::<Test>::NotOwner);
		assert_noop!(remove(ALICE, 9), Error::<Test>::UnknownDataset);
		assert_noop!(DataRewards::remove_dataset(RuntimeOrigin::none(), a), BadOrigin);
		// The model still names it.
		assert_noop!(remove(ALICE, a), Error::<Test>::StillLinked);

		// Anyone may unlink a retired dataset; a live one stays.
		let unlink = |id: DatasetId| {
			DataRewards::unlink_retired(RuntimeOrigin::signed(CURATOR), model(), id)
		};
		assert_noop!(unlink(b), Error::<Test>::NotRetired);
		assert_noop!(
			DataRewards::unlink_retired(RuntimeOrigin::signed(CURATOR), model2(), a),
			Error::<Test>::UnknownModel
		);
		assert_noop!(DataRewards::unlink_retired(RuntimeOrigin::none(), model(), a), BadOrigin);
		assert_ok!(unlink(a));
		event(Event::DatasetUnlinked { model: model(), dataset: a });
		assert_eq!(Models::<Test>::get(model()).unwrap().datasets.to_vec(), vec![b]);
		assert_noop!(unlink(a), Error::<Test>::NotLinked);

		// Its epoch is still open.
		assert_noop!(remove(ALICE, a), Error::<Test>::EpochNotOver);
		next_epoch();
		let before = free(ALICE);
		assert_ok!(remove(ALICE, a));
		event(Event::DatasetRemoved {
			dataset: a,
			owner: ALICE,
			paid: 50,
			deposit: DATASET_DEPOSIT,
		});
		assert_eq!(free(ALICE), before + 50 + DATASET_DEPOSIT);
		assert_eq!(dataset_deposit(ALICE), 0);
		assert!(Datasets::<Test>::get(a).is_none());
		assert!(Metadata::<Test>::get(a).is_none());
		// The hash is free again.
		assert_eq!(register(BOB, 1), 2);
	});
}

#[test]
fn a_dataset_retired_before_any_use_is_removed_at_once() {
	run_test(|| {
		let a = register(ALICE, 1);
		assert_ok!(DataRewards::retire_dataset(RuntimeOrigin::signed(ALICE), a));
		assert_ok!(DataRewards::remove_dataset(RuntimeOrigin::signed(ALICE), a));
		assert_eq!(free(ALICE), 10_000);
		event(Event::DatasetRemoved {
			dataset: a,
			owner: ALICE,
			paid: 0,
			deposit: DATASET_DEPOSIT,
		});
	});
}

// --- judging attestations ---

#[test]
fn attestations_of_past_epochs_are_judged_and_outliers_pay() {
	run_test(|| {
		let ids: Vec<_> = (1..=3).map(|n| register(ALICE, n)).collect();
		for id in &ids {
			attest(CURATOR, *id, 60);
			attest(CURATOR2, *id, 70);
		}
		// An outlier: stake 100 at 0 against stake 300 at 70 (median 70).
		let d = register(BOB, 4);
		attest(CURATOR, d, 0);
		attest(CURATOR2, d, 70);
		assert_eq!(Attestations::<Test>::iter_prefix(0).count(), 8);
		assert_eq!(
			pallet_agents::Registry::<Test>::get(CURATOR).unwrap().collateral,
			4 * CURATION_PENALTY
		);
		// The current epoch's attestations wait.
		run_to_block(2);
		assert_eq!(Attestations::<Test>::iter_prefix(0).count(), 8);
		next_epoch();
		run_to_block(System::block_number() + 1);
		assert_eq!(Attestations::<Test>::iter_prefix(0).count(), 0);
		assert_eq!(AttestationCursor::<Test>::get(), 1);
		event(Event::CuratorPenalised {
			dataset: d,
			curator: CURATOR,
			epoch: 0,
			score: 0,
			median: 70,
			slashed: CURATION_PENALTY,
		});
		// 60 is within 30 of 70: only the outlier paid; the penalty went to the reserve.
		assert_eq!(
			pallet_agents::Registry::<Test>::get(CURATOR).unwrap().stake,
			CURATOR_STAKE - CURATION_PENALTY
		);
		assert_eq!(pallet_agents::Registry::<Test>::get(CURATOR).unwrap().collateral, 0);
		assert_eq!(pallet_agents::Registry::<Test>::get(CURATOR2).unwrap().stake, CURATOR2_STAKE);
		assert_eq!(Reserve::<Test>::get(), CURATION_PENALTY);
	});
}

/// A curator out to zero a competitor's reward: with less than half the attesting stake it
/// cannot move the median, and it pays for being an outlier. Below the quorum its lone score
/// does not count at all.
#[test]
fn a_minority_curator_cannot_zero_a_competitor_and_pays_for_trying() {
	run_test(|| {
		MinCurators::set(2);
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		finalise(1, model(), 200);
		// Alone, its 0 is below the quorum: the dataset keeps the default score.
		attest(CURATOR, a, 0);
		assert_eq!(ledger(a).weight(MinCurators::get()), 50);
		// With an honest curator holding more stake, the median is the honest score.
		attest(CURATOR2, a, 90);
		assert_eq!(ledger(a).weight(MinCurators::get()), 90);
		next_epoch();
		// Alice earns her whole usage share; the attacker loses its penalty.
		assert_eq!(claim(ALICE, a), 100);
		run_to_block(System::block_number() + 1);
		assert_eq!(
			pallet_agents::Registry::<Test>::get(CURATOR).unwrap().stake,
			CURATOR_STAKE - CURATION_PENALTY
		);
	});
}

#[test]
fn a_curator_attests_only_what_its_free_stake_backs() {
	run_test(|| {
		let per_stake = CURATOR_STAKE / CURATION_PENALTY;
		let ids: Vec<_> = (0..=per_stake).map(|n| register(ALICE, n as u8 + 1)).collect();
		for id in &ids[..per_stake as usize] {
			attest(CURATOR, *id, 50);
		}
		assert_noop!(
			DataRewards::attest(RuntimeOrigin::signed(CURATOR), ids[per_stake as usize], 50),
			Error::<Test>::InsufficientFreeStake
		);
	});
}

// --- model records follow the model's executors ---

/// The first executor to declare a model used to own its record forever, even after leaving.
/// Now a current executor of the model takes the record over when its owner no longer serves the
/// model, or has less stake.
#[test]
fn a_model_record_follows_the_models_current_executors() {
	run_test(|| {
		let a = register(ALICE, 1);
		let b = register(BOB, 2);
		declare(model2(), vec![a]);
		// More stake takes the record over, moving the deposit.
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(EXECUTOR2), 1));
		assert_ok!(DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR2), model2(), vec![b]));
		event(Event::ModelTakenOver { model: model2(), from: EXECUTOR, to: EXECUTOR2 });
		let record = Models::<Test>::get(model2()).unwrap();
		assert_eq!((record.owner, record.datasets.to_vec()), (EXECUTOR2, vec![b]));
		assert_eq!((model_deposit(EXECUTOR), model_deposit(EXECUTOR2)), (0, MODEL_DEPOSIT));
		assert_eq!((dataset(a).models, dataset(b).models), (0, 1));
		// An owner that stops serving the model loses it to any executor that does.
		assert_ok!(DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR), model(), vec![a]));
		assert_ok!(Agents::pause(RuntimeOrigin::signed(EXECUTOR2)));
		assert_noop!(
			DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR2), model2(), vec![a]),
			Error::<Test>::NotModelExecutor
		);
		assert_ok!(DataRewards::declare_model(RuntimeOrigin::signed(EXECUTOR), model2(), vec![a]));
		assert_eq!(Models::<Test>::get(model2()).unwrap().owner, EXECUTOR);
	});
}

#[test]
fn usage_credits_are_recorded_in_the_protocol_ledger() {
	run_test(|| {
		let a = register(ALICE, 1);
		declare(model(), vec![a]);
		finalise(1, model(), 200);
		assert_eq!(ProtocolPaid::get(), 100);
	});
}
