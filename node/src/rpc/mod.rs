//! The node's JSON-RPC methods beyond Substrate's standard ones (`chain`, `state`, `author`,
//! `system`, which `sc-service` adds itself).

use std::sync::Arc;

pub mod queries;

use agentchain_runtime::{opaque::Block, AccountId, Balance, Nonce};
use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC methods need from the node.
pub struct FullDeps<C, P> {
	/// The client, to read chain state and call runtime APIs.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
}

/// Builds the node's extra RPC methods: account nonces (`system_accountNextIndex`), fee queries
/// (`payment_queryInfo`, `payment_queryFeeDetails`), and the chain's own queries
/// (`agents_agent`, `agents_serving`, `inference_task`, `inference_tasksFor`,
/// `challenges_dispute`, `challenges_duties`; see [`queries`]).
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>,
	C: HeaderBackend<Block> + HeaderMetadata<Block, Error = BlockChainError> + 'static,
	C: Send + Sync + 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: agentchain_primitives::api::AgentsApi<Block, AccountId>,
	C::Api: agentchain_primitives::api::InferenceApi<Block, AccountId>,
	C::Api: agentchain_primitives::api::ChallengesApi<Block, AccountId>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use queries::{AgentsQueriesServer, ChallengesQueriesServer, InferenceQueriesServer, Queries};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(AgentsQueriesServer::into_rpc(Queries::new(client.clone())))?;
	module.merge(InferenceQueriesServer::into_rpc(Queries::new(client.clone())))?;
	module.merge(ChallengesQueriesServer::into_rpc(Queries::new(client)))?;

	Ok(module)
}
