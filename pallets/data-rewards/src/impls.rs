//! What the data-rewards pallet provides to the inference pallet: usage credited when a
//! task is finalised ([`OnTaskFinalised`]).

use super::*;

impl<T: Config> OnTaskFinalised<T::AccountId, BalanceOf<T>> for Pallet<T> {
	/// Moves [`Config::UsageShare`] of `protocol_cut` from `protocol_account` into the pot and
	/// credits the model's live datasets with equal parts of it (the first gets the remainder).
	/// Never fails: a model without a record or live datasets credits nothing, and a transfer
	/// that fails is logged and credits nothing.
	fn on_task_finalised(
		task: TaskId,
		model: &ModelId,
		protocol_account: &T::AccountId,
		protocol_cut: BalanceOf<T>,
	) {
		if protocol_cut.is_zero() {
			return;
		}
		let Some(record) = Models::<T>::get(model) else { return };
		// At most `MaxDatasetsPerModel` datasets.
		let live: Vec<(DatasetId, DatasetInfo<T>)> = record
			.datasets
			.iter()
			.filter_map(|id| Datasets::<T>::get(id).map(|info| (*id, info)))
			.filter(|(_, info)| info.status == DatasetStatus::Active)
			.collect();
		let count = live.len() as u32;
		let amount = T::UsageShare::get().mul_floor(protocol_cut);
		if count == 0 || amount.is_zero() {
			return;
		}
		let pot = Self::account_id();
		if let Err(error) =
			T::Currency::transfer(protocol_account, &pot, amount, Preservation::Preserve)
		{
			log::warn!(target: LOG_TARGET, "usage credit of task {task} failed: {error:?}");
			Self::deposit_event(Event::UsageNotCredited { task, model: *model, amount });
			return;
		}
		T::Treasury::note_paid(ProtocolFlow::DataRewards, amount);

		let epoch = Self::current_epoch();
		let parts = BalanceOf::<T>::from(count);
		let split = |total: BalanceOf<T>| {
			let each = total.checked_div(&parts).unwrap_or_else(Zero::zero);
			(each, total.saturating_sub(each.saturating_mul(parts)))
		};
		let (usage_each, usage_rest) = split(amount);
		let (cut_each, cut_rest) = split(protocol_cut);
		let mut before = 0u128;
		let mut after = 0u128;
		for (position, (id, mut info)) in live.into_iter().enumerate() {
			Self::settle(id, &mut info.ledger, epoch);
			before = before.saturating_add(info.ledger.weight(T::MinCurators::get()));
			let (usage, cut) = if position == 0 {
				(usage_each.saturating_add(usage_rest), cut_each.saturating_add(cut_rest))
			} else {
				(usage_each, cut_each)
			};
			info.ledger.usage = info.ledger.usage.saturating_add(usage);
			info.ledger.cut = info.ledger.cut.saturating_add(cut);
			after = after.saturating_add(info.ledger.weight(T::MinCurators::get()));
			Datasets::<T>::insert(id, info);
		}
		Epochs::<T>::mutate(epoch, |maybe_totals| {
			let totals = maybe_totals.get_or_insert_with(Default::default);
			totals.paid_in = totals.paid_in.saturating_add(amount);
			totals.cut = totals.cut.saturating_add(protocol_cut);
			totals.total_weight = totals.total_weight.saturating_sub(before).saturating_add(after);
		});
		Self::deposit_event(Event::UsageCredited { task, model: *model, amount, datasets: count });
	}

	fn max_weight() -> Weight {
		T::WeightInfo::on_task_finalised(T::MaxDatasetsPerModel::get())
	}
}
