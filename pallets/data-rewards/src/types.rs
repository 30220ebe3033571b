//! Types stored by the data-rewards pallet, and the reward arithmetic on them.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::AtLeast32BitUnsigned, Rounding,
	SaturatedConversion,
};

pub use agentchain_primitives::api::{DatasetId, EpochIndex};

/// The highest quality score a curator may give.
pub const MAX_SCORE: u8 = 100;

/// The score of a dataset that too few curators attested in an epoch: the middle of the scale,
/// so an unrated dataset is neither favoured nor ignored.
pub const DEFAULT_SCORE: u8 = 50;

/// Score buckets of a [`ScoreTally`]: bucket `b` holds the scores `10 b ..= 10 b + 9` (the last,
/// 100 alone).
pub const SCORE_BUCKETS: usize = 11;

/// The attestations of a dataset in one epoch: the curators' stake in each bucket of ten scores,
/// and the stake-weighted sum of the scores in it. From it comes the stake-weighted median score,
/// which curators holding less than half the attesting stake cannot move.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ScoreTally {
	/// Σ stake of the curators whose score falls in each bucket.
	pub stake: [u128; SCORE_BUCKETS],
	/// Σ stake × score in each bucket.
	pub weighted: [u128; SCORE_BUCKETS],
	/// How many curators attested.
	pub curators: u32,
}

impl ScoreTally {
	/// The bucket of `score`.
	pub fn bucket(score: u8) -> usize {
		(usize::from(score.min(MAX_SCORE)) / 10).min(SCORE_BUCKETS - 1)
	}

	/// Counts a curator's `score`, weighed by its `stake`.
	pub fn add(&mut self, score: u8, stake: u128) {
		let bucket = Self::bucket(score);
		if let (Some(s), Some(w)) = (self.stake.get_mut(bucket), self.weighted.get_mut(bucket)) {
			*s = s.saturating_add(stake);
			*w = w.saturating_add(stake.saturating_mul(score.into()));
		}
		self.curators = self.curators.saturating_add(1);
	}

	/// The stake-weighted median score, once at least `quorum` curators attested: the mean of
	/// the scores in the bucket that holds the median stake (rounded down). `None` below the
	/// quorum.
	pub fn median(&self, quorum: u32) -> Option<u8> {
		if self.curators < quorum.max(1) {
			return None;
		}
		let total = self.stake.iter().fold(0u128, |sum, s| sum.saturating_add(*s));
		if total == 0 {
			return None;
		}
		let mut seen = 0u128;
		for (stake, weighted) in self.stake.iter().zip(self.weighted.iter()) {
			seen = seen.saturating_add(*stake);
			if *stake > 0 && seen.saturating_mul(2) >= total {
				return Some((weighted / stake).min(MAX_SCORE.into()) as u8);
			}
		}
		None
	}
}

/// The datasets a model record names: sorted, without duplicates.
pub type DatasetsOf<T> = BoundedVec<DatasetId, <T as Config>::MaxDatasetsPerModel>;

/// Whether a dataset still earns.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DatasetStatus {
	/// Credited with usage and open to attestations.
	Active,
	/// Retired by its owner in epoch `since`: no new usage or attestations; what it earned
	/// before stays claimable.
	Retired {
		/// The epoch in which it was retired.
		since: EpochIndex,
	},
}

/// A dataset's reward account: its activity in its latest active epoch, and what it was owed
/// for earlier epochs. Settled (the activity turned into `owed`) when the dataset is touched in a
/// later epoch — by a credit, an attestation or a claim — so no hook ever loops over datasets.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Ledger<Balance> {
	/// The epoch that `usage`, `cut` and `scores` belong to.
	pub epoch: EpochIndex,
	/// Funds moved into the pot on behalf of this dataset in `epoch`.
	pub usage: Balance,
	/// Protocol cut paid by the tasks that credited this dataset in `epoch` (the bound on its
	/// reward for the epoch).
	pub cut: Balance,
	/// The attestations of this dataset in `epoch`.
	pub scores: ScoreTally,
	/// Rewards of settled epochs, not yet claimed.
	pub owed: Balance,
}

impl<Balance: AtLeast32BitUnsigned + Copy> Ledger<Balance> {
	/// An empty ledger for `epoch`.
	pub fn new(epoch: EpochIndex) -> Self {
		Self {
			epoch,
			usage: Balance::zero(),
			cut: Balance::zero(),
			scores: ScoreTally::default(),
			owed: Balance::zero(),
		}
	}

	/// Whether nothing happened to the dataset in `epoch`.
	pub fn is_idle(&self) -> bool {
		self.usage.is_zero() && self.cut.is_zero() && self.scores.curators == 0
	}

	/// Starts `epoch` with no activity, keeping what is owed.
	pub fn reset(&mut self, epoch: EpochIndex) {
		*self = Self { owed: self.owed, ..Self::new(epoch) };
	}

	/// The dataset's score in `epoch`: the stake-weighted median of its attestations once at
	/// least `quorum` curators attested it, else [`DEFAULT_SCORE`].
	pub fn score(&self, quorum: u32) -> u8 {
		self.scores.median(quorum).unwrap_or(DEFAULT_SCORE)
	}

	/// The dataset's reward weight in `epoch`: `usage × score / 100`, rounded down (see
	/// [`Ledger::score`]). Never more than `usage`.
	pub fn weight(&self, quorum: u32) -> u128 {
		let usage: u128 = self.usage.saturated_into();
		multiply_by_rational_with_rounding(
			usage,
			self.score(quorum).into(),
			MAX_SCORE.into(),
			Rounding::Down,
		)
		.unwrap_or(0)
		.min(usage)
	}

	/// The dataset's reward for its epoch, closed with `info`: its weight share of the pot, but
	/// never more than its usage share of the pot, nor the protocol cut its usage paid, nor what
	/// is left of the pot. Rounded down, so the rewards of an epoch never exceed its pot.
	pub fn reward(&self, info: &EpochInfo<Balance>, quorum: u32) -> Balance {
		let weight = self.weight(quorum);
		let usage: u128 = self.usage.saturated_into();
		let paid_in: u128 = info.paid_in.saturated_into();
		if weight == 0 || info.total_weight == 0 || paid_in == 0 {
			return Balance::zero();
		}
		let pot: u128 = info.pot.saturated_into();
		let share = |part: u128, whole: u128| {
			multiply_by_rational_with_rounding(pot, part.min(whole), whole, Rounding::Down)
				.unwrap_or(0)
		};
		let reward = share(weight, info.total_weight).min(share(usage, paid_in));
		reward
			.saturated_into::<Balance>()
			.min(self.cut)
			.min(info.pot.saturating_sub(info.settled))
	}
}

/// Everything the chain records about a dataset, except its descriptive metadata.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct DatasetInfo<T: Config> {
	/// The contributor: registered the dataset, paid its deposit, claims its rewards.
	pub owner: T::AccountId,
	/// Hash of the data, unique among registered datasets.
	pub content_hash: H256,
	/// Size of the data, in bytes.
	pub size: u64,
	/// The storage deposit held from the owner.
	pub deposit: BalanceOf<T>,
	/// Whether it still earns.
	pub status: DatasetStatus,
	/// How many model records name it. It can only be removed when none does.
	pub models: u32,
	/// Block of registration.
	pub registered_at: BlockNumberFor<T>,
	/// Its reward account.
	pub ledger: Ledger<BalanceOf<T>>,
}

/// Descriptive data of a dataset, kept apart from [`DatasetInfo`] so that crediting usage never
/// reads it. Bounded in length; UTF-8 by convention (not checked on chain).
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct DatasetMetadata<T: Config> {
	/// Where the data can be fetched.
	pub uri: BoundedVec<u8, T::MaxUriLen>,
	/// The data's license (an SPDX identifier, say).
	pub license: BoundedVec<u8, T::MaxLicenseLen>,
	/// Free-form description.
	pub description: BoundedVec<u8, T::MaxMetadataLen>,
}

/// The datasets a model was trained on or retrieves from.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ModelRecord<T: Config> {
	/// The owner account of an agent serving the model as an executor: the only account that
	/// may change the record while it keeps serving the model and no executor of the model
	/// with more stake takes the record over.
	pub owner: T::AccountId,
	/// The datasets, sorted; retired ones earn nothing and can be unlinked by anyone.
	pub datasets: DatasetsOf<T>,
	/// The storage deposit held from the owner.
	pub deposit: BalanceOf<T>,
}

/// A curator's attestation of a dataset in an epoch, judged once the epoch is over.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Attestation<Balance> {
	/// The score given.
	pub score: u8,
	/// The curator's stake reserved until the attestation is judged: what it loses if its
	/// score is an outlier.
	pub collateral: Balance,
}

/// Totals of one epoch: built up while it is current, fixed when it closes, removed when its
/// claim period ends.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct EpochInfo<Balance> {
	/// Funds moved into the pot by finalised tasks in the epoch: the sum of the datasets' usage.
	pub paid_in: Balance,
	/// Protocol cut paid by those tasks.
	pub cut: Balance,
	/// Σ of the datasets' reward weights, kept up to date at every credit and attestation.
	pub total_weight: u128,
	/// What the epoch pays out: `paid_in`, topped up from the reserve and issuance up to `cut`.
	/// Set when the epoch closes.
	pub pot: Balance,
	/// Rewards of the epoch settled to datasets so far.
	pub settled: Balance,
}

/// The current epoch, and the block it started at.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct EpochClock<BlockNumber> {
	/// Index of the current epoch.
	pub index: EpochIndex,
	/// First block of the current epoch.
	pub start: BlockNumber,
}
