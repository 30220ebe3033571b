//! What the AgentChain pallets' test runtimes share: operator keys and signed transactions of
//! off-chain workers, as test types. Behind the `mock-helpers` feature, for mocks only.

pub use sp_runtime::testing::{TestSignature, TestXt, UintAuthorityId};

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
