//! What the AgentChain pallets' test runtimes share: their genesis, moving blocks on, operator
//! keys and signed transactions of off-chain workers, as test types. Behind the `mock-helpers` feature, for mocks only.

use core::marker::PhantomData;
use frame_support::traits::{OnFinalize, OnInitialize};
use frame_system::pallet_prelude::BlockNumberFor;
pub use sp_runtime::testing::{TestSignature, TestXt, UintAuthorityId};
use sp_runtime::{traits::One, BuildStorage};

/// The externalities of a test of runtime `T`: the storage of `genesis` (the mock's
/// `RuntimeGenesisConfig`: the accounts it funds), at block 1, where `set_up` then runs (to
/// register agents, say, through the pallets' calls, so that their records are real).
pub struct ExtBuilder<T, Genesis> {
	genesis: Genesis,
	set_up: Option<fn()>,
	_runtime: PhantomData<T>,
}

impl<T: frame_system::Config, Genesis: BuildStorage> ExtBuilder<T, Genesis> {
	/// The externalities of `genesis`, with nothing more set up.
	pub fn new(genesis: Genesis) -> Self {
		Self { genesis, set_up: None, _runtime: PhantomData }
	}

	/// Runs `set_up` at block 1, once the genesis is built.
	pub fn set_up(self, set_up: fn()) -> Self {
		Self { set_up: Some(set_up), ..self }
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let storage = self.genesis.build_storage().expect("the test genesis builds");
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			frame_system::Pallet::<T>::set_block_number(One::one());
			if let Some(set_up) = self.set_up {
				set_up();
			}
		});
		ext
	}
}

/// Advances the test runtime `T` to block `n`, running every pallet's `on_finalize` and
/// `on_initialize` on the way (`AllPallets`: the mock's `AllPalletsWithSystem`), each block
/// starting empty, as `System::initialize` leaves it.
pub fn run_to_block<T: frame_system::Config, AllPallets>(n: BlockNumberFor<T>)
where
	AllPallets: OnInitialize<BlockNumberFor<T>> + OnFinalize<BlockNumberFor<T>>,
{
	frame_system::Pallet::<T>::run_to_block_with::<AllPallets>(
		n,
		frame_system::RunToBlockHooks::default()
			.before_initialize(|_| frame_system::BlockWeight::<T>::kill()),
	);
}

/// [`run_to_block`], every block from the current one to the one before `n` full of ordinary
/// traffic (its `Normal` share used up, see [`crate::congestion::fill_normal_share`]) when its
/// `on_finalize` records it.
pub fn run_full_to_block<T: frame_system::Config, AllPallets>(n: BlockNumberFor<T>)
where
	AllPallets: OnInitialize<BlockNumberFor<T>> + OnFinalize<BlockNumberFor<T>>,
{
	while frame_system::Pallet::<T>::block_number() < n {
		let now = frame_system::Pallet::<T>::block_number();
		crate::congestion::fill_normal_share::<T>();
		run_to_block::<T, AllPallets>(now + One::one());
	}
}

/// The calls among `transactions` (a test transaction pool's, raw: `Extrinsic`s as
/// [`impl_test_signing`] makes them), each with the `u64` account that signed it.
pub fn signed_calls<Call>(transactions: Vec<Vec<u8>>) -> Vec<(u64, Call)>
where
	TestXt<Call, ()>: codec::Decode,
{
	transactions
		.into_iter()
		.map(|raw| {
			let xt = <TestXt<Call, ()> as codec::Decode>::decode(&mut &raw[..])
				.expect("a test extrinsic");
			let sp_runtime::generic::Preamble::Signed(signer, (), ()) = xt.preamble else {
				panic!("not signed")
			};
			(signer, xt.function)
		})
		.collect()
}

/// Operator keys in tests: `UintAuthorityId`s, whose keystore is set with
/// `UintAuthorityId::set_all_keys`.
pub struct TestOperatorCrypto;
impl frame_system::offchain::AppCrypto<UintAuthorityId, TestSignature> for TestOperatorCrypto {
	type RuntimeAppPublic = UintAuthorityId;
	type GenericPublic = UintAuthorityId;
	type GenericSignature = TestSignature;
}

/// Makes the test runtime `$runtime` (its accounts `u64`, its `RuntimeCall` in scope) sign the
/// transactions of off-chain workers with [`UintAuthorityId`] keys, as `Extrinsic`s: test
/// extrinsics signed by a `u64` account, with no signature check and no extension. The
/// transactions a worker submits are found in the test's transaction pool state.
#[macro_export]
macro_rules! impl_test_signing {
	($runtime:ty) => {
		/// Test extrinsics: signed by a `u64` account, no signature check, no extension.
		pub type Extrinsic = $crate::mock_helpers::TestXt<RuntimeCall, ()>;

		impl frame_system::offchain::SigningTypes for $runtime {
			type Public = $crate::mock_helpers::UintAuthorityId;
			type Signature = $crate::mock_helpers::TestSignature;
		}

		impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for $runtime
		where
			RuntimeCall: From<LocalCall>,
		{
			type Extrinsic = Extrinsic;
			type RuntimeCall = RuntimeCall;
		}

		impl<LocalCall> frame_system::offchain::CreateSignedTransaction<LocalCall> for $runtime
		where
			RuntimeCall: From<LocalCall>,
		{
			fn create_signed_transaction<
				C: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
			>(
				call: RuntimeCall,
				_public: $crate::mock_helpers::UintAuthorityId,
				account: u64,
				_nonce: u32,
			) -> Option<Extrinsic> {
				Some(Extrinsic::new_signed(call, account, (), ()))
			}
		}
	};
}
