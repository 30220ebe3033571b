//! The pallet's invariants, checked by `try_state` and after every unit test.

use super::*;

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants (used by `try_state`, and by tests after every test).
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let current = Self::current_epoch();
		let mut owed = BalanceOf::<T>::zero();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut links: BTreeMap<DatasetId, u32> = BTreeMap::new();
		let mut weights: BTreeMap<EpochIndex, u128> = BTreeMap::new();
		let next_id = NextDatasetId::<T>::get();

		for (id, info) in Datasets::<T>::iter() {
			ensure!(id < next_id, "a dataset id was not assigned yet");
			ensure!(
				DatasetByHash::<T>::get(info.content_hash) == Some(id),
				"a dataset's content hash does not map back to it"
			);
			ensure!(Metadata::<T>::contains_key(id), "a dataset has no metadata");
			ensure!(info.ledger.epoch <= current, "a ledger is ahead of the current epoch");
			if let DatasetStatus::Retired { since } = info.status {
				ensure!(since <= current, "a dataset retired in a future epoch");
			}
			owed = owed.saturating_add(info.ledger.owed);
			let held = deposits.entry(info.owner.clone()).or_default();
			*held = held.saturating_add(info.deposit);
			let weight = weights.entry(info.ledger.epoch).or_default();
			*weight = weight.saturating_add(info.ledger.weight(T::MinCurators::get()));
		}
		for (owner, total) in deposits {
			let held = T::Currency::balance_on_hold(&HoldReason::DatasetDeposit.into(), &owner);
			ensure!(held == total, "dataset deposits held differ from those recorded");
		}
		ensure!(
			DatasetByHash::<T>::iter().count() == Datasets::<T>::iter().count(),
			"content hashes and datasets differ in number"
		);
		ensure!(
			Metadata::<T>::iter().count() == Datasets::<T>::iter().count(),
			"metadata and datasets differ in number"
		);

		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (_, record) in Models::<T>::iter() {
			ensure!(
				record.datasets.windows(2).all(|pair| pair.first() < pair.last()),
				"a model record's datasets are not sorted and unique"
			);
			for id in record.datasets.iter() {
				ensure!(Datasets::<T>::contains_key(id), "a model record names no dataset");
				let count = links.entry(*id).or_default();
				*count = count.saturating_add(1);
			}
			let held = deposits.entry(record.owner.clone()).or_default();
			*held = held.saturating_add(record.deposit);
		}
		for (owner, total) in deposits {
			let held = T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &owner);
			ensure!(held == total, "model deposits held differ from those recorded");
		}
		for (id, info) in Datasets::<T>::iter() {
			ensure!(
				links.get(&id).copied().unwrap_or_default() == info.models,
				"a dataset's model count differs from the records naming it"
			);
		}

		// What the pot owes: settled rewards, the unsettled part of closed epochs' pots, the
		// current epoch's intake, and the reserve.
		let mut liabilities = owed.saturating_add(Reserve::<T>::get());
		let cursor = ExpiryCursor::<T>::get();
		for (epoch, totals) in Epochs::<T>::iter() {
			ensure!(epoch >= cursor && epoch <= current, "an epoch outside the claim window");
			ensure!(totals.paid_in <= totals.cut, "an epoch took in more than the cut paid");
			let weight = weights.get(&epoch).copied().unwrap_or_default();
			if epoch == current {
				ensure!(totals.total_weight == weight, "the epoch's total weight is off");
				ensure!(totals.pot.is_zero() && totals.settled.is_zero(), "an open epoch paid");
				liabilities = liabilities.saturating_add(totals.paid_in);
			} else {
				ensure!(weight <= totals.total_weight, "unsettled weight exceeds the total");
				ensure!(totals.settled <= totals.pot, "an epoch settled more than its pot");
				ensure!(
					totals.pot.is_zero() || totals.pot <= totals.cut,
					"an epoch's pot exceeds the cut its tasks paid"
				);
				liabilities = liabilities.saturating_add(totals.pot.saturating_sub(totals.settled));
			}
		}
		for (epoch, weight) in weights {
			ensure!(
				weight == 0 || Epochs::<T>::contains_key(epoch) || epoch < cursor,
				"a ledger's epoch has no totals"
			);
		}
		let pot = T::Currency::balance(&Self::account_id());
		ensure!(pot >= liabilities, "the pot holds less than the rewards it owes");
		for (epoch, _) in Attestations::<T>::iter_keys() {
			ensure!(epoch >= AttestationCursor::<T>::get(), "an attestation below the cursor");
			ensure!(epoch <= current, "an attestation for a future epoch");
		}
		Ok(())
	}
}
