//! What the challenges pallet provides to the inference pallet: disputes opened on
//! disagreements and audits ([`DisputeHandler`]).

use super::*;

impl<T: Config> Pallet<T> {
	/// Opens a dispute without a bond (a disagreement or an audit), inside a storage layer so
	/// that nothing is kept when no jury can be drawn.
	pub(crate) fn open_unbonded(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		kind: DisputeKind<T::AccountId>,
	) -> DispatchResult {
		frame_support::storage::with_storage_layer(|| {
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			Self::open(task, view.clone(), kind, Default::default(), Zero::zero(), FirstPhase::Jury)
		})
	}

	/// Opens the audit of a batch, over the item `seed` draws (the whole batch's price at
	/// stake: nobody chose the item), inside a storage layer.
	pub(crate) fn open_batch_audit(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		batch: &BatchItems,
		seed: [u8; 32],
		compensated: bool,
	) -> DispatchResult {
		let root = view.result.ok_or(Error::<T>::NotChallengeable)?;
		// Every item judged by a jury already (a disagreement's): nothing is left to sample.
		let item = Self::audit_item(seed, batch.items, &batch.disagreed)
			.ok_or(Error::<T>::NotChallengeable)?;
		frame_support::storage::with_storage_layer(|| {
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			if !compensated {
				UncompensatedAudits::<T>::insert(task, ());
			}
			Self::open_item(
				task,
				view.clone(),
				DisputeKind::Audit,
				Default::default(),
				Zero::zero(),
				item,
				batch,
				root,
			)
		})
	}

	/// Opens the bisection of a disagreement between the two outputs roots of a batch, priced
	/// as one of its items, inside a storage layer. It needs no jury until its item is known.
	pub(crate) fn open_bisection(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		batch: &BatchItems,
	) -> DispatchResult {
		let [(a, a_root), (b, b_root)] =
			<[(T::AccountId, H256); 2]>::try_from(view.revealed.clone())
				.map_err(|_| Error::<T>::NotTwoRoots)?;
		ensure!(a_root != b_root && a != b, Error::<T>::NotTwoRoots);
		let side = |executor, root| BisectionSide { executor, root, node: root, opening: None };
		let bisection = Bisection {
			items: batch.items,
			inputs_root: batch.inputs_root,
			level: agentchain_execution::merkle::root_level(batch.items),
			position: 0,
			sides: [side(a, a_root), side(b, b_root)],
		};
		frame_support::storage::with_storage_layer(|| {
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			Self::open(
				task,
				Self::item_priced(view.clone(), batch.items),
				DisputeKind::Disagreement,
				Default::default(),
				Zero::zero(),
				FirstPhase::Bisection(bisection),
			)?;
			BisectionGames::<T>::insert(task, BisectionGame::default());
			Ok(())
		})
	}

	/// The item of a batch of `items` items that an audit seeded by `seed` judges, among those
	/// a disagreement between its roots did not judge (`disagreed`, at most
	/// [`MAX_ITEMS_FOUND_WRONG`]; the two roots agree on every other item, and a root reconciled
	/// with the result is accused with it): the `d`-th of them, `d =
	/// blake2_256("agentchain/batch-audit-item" ‖ seed) mod` their number, apart from the
	/// seed's use in deciding whether to audit. `None` when a jury judged every item.
	pub fn audit_item(seed: [u8; 32], items: u32, disagreed: &[u32]) -> Option<u32> {
		let hash = sp_io::hashing::blake2_256(&(b"agentchain/batch-audit-item", seed).encode());
		let draw = u64::from_le_bytes([
			hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7],
		]);
		let mut judged: Vec<u32> = disagreed.iter().copied().filter(|i| *i < items).collect();
		judged.sort_unstable();
		judged.dedup();
		let left = items.saturating_sub(judged.len() as u32);
		if left == 0 {
			return None;
		}
		let mut item = (draw % u64::from(left)) as u32;
		// The d-th item not judged: each judged item at or before it moves it one on.
		for judged in judged {
			if judged <= item {
				item = item.saturating_add(1);
			}
		}
		Some(item)
	}

	/// Whether the result of a task is drawn for an audit, from `seed`.
	/// Without a seed (its block's hash is no longer known), the result is audited: nobody may
	/// pick a seed by choosing when the deadline is processed.
	pub(crate) fn audit_drawn(seed: Option<[u8; 32]>) -> bool {
		let probability = T::AuditProbability::get();
		if probability.is_zero() {
			return false;
		}
		let Some(seed) = seed else { return true };
		let seed = sp_io::hashing::blake2_256(&(b"challenges/audit", seed).encode());
		let draw = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]);
		Perbill::from_rational(draw, u32::MAX) < probability || probability == Perbill::one()
	}
}

impl<T: Config> DisputeHandler<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn on_disagreement(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
	) -> DispatchResult {
		match &view.batch {
			None => Self::open_unbonded(task, view, DisputeKind::Disagreement),
			// Two roots of a batch: bisected to each item they differ on.
			Some(batch) => Self::open_bisection(task, view, batch),
		}
	}

	fn audit(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		seed: AuditSeed,
	) -> bool {
		let (seed, compensated) = match seed {
			AuditSeed::Drawn(seed) => {
				if !Self::audit_drawn(seed) {
					return false;
				}
				(seed, true)
			},
			// The requester withheld its secret: audited whatever the draw, uncompensated.
			AuditSeed::Withheld(seed) => (Some(seed), false),
		};
		match &view.batch {
			None => Self::open_unbonded(task, view, DisputeKind::Audit).is_ok(),
			Some(batch) => {
				// Without the seed's block (processed very late), the item is drawn from the
				// parent of this block, which nobody acting before it knew.
				let now = frame_system::Pallet::<T>::block_number();
				let seed = seed
					.or_else(|| {
						T::Randomness::random_at(
							&(b"challenges/batch-audit", task).encode(),
							now.saturating_sub(One::one()),
						)
					})
					.unwrap_or_default();
				Self::open_batch_audit(task, view, batch, seed, compensated).is_ok()
			},
		}
	}

	fn is_judging(task: TaskId) -> bool {
		Disputes::<T>::contains_key(task)
	}

	fn max_executor_slash(share: BalanceOf<T>) -> BalanceOf<T> {
		Self::wrong_result_slash(share)
	}

	fn max_weight() -> Weight {
		// A batch's audit opens an item dispute: at most what a challenge of an item costs.
		T::WeightInfo::open_dispute().max(Self::challenge_item_weight())
	}

	fn batch_terms() -> BatchTerms<BalanceOf<T>> {
		let jury = T::JurySize::get();
		let jury_pay = T::JurorReward::get().saturating_mul(jury.into());
		BatchTerms {
			// Challenges and audits of a batch are judged one item at a time; a disagreement
			// between two roots is not yet (`Config::BatchesTaken`).
			items_judged: T::BatchesTaken::get(),
			item_slash_floor: Self::item_slash_floor(),
			slash_fee_multiple: T::SlashFeeMultiple::get(),
			item_disputes: MAX_ITEMS_FOUND_WRONG,
			jurors_needed: (0..=T::MaxAppeals::get())
				.fold(0u32, |sum, round| sum.saturating_add(Self::jury_size(round))),
			juror_collateral: T::JurorPenalty::get(),
			jury_deposit: jury_pay,
			jury_commit_blocks: T::CommitPeriod::get().saturated_into(),
		}
	}
}
