//! The HTTP/1.1 server: routing, authentication, fault injection and graceful shutdown.

use crate::{
	api::{
		completion_body, parse_error, ApiError, ChatCompletionRequest, CompletionRequest, Endpoint,
		FaultBody, FaultUpdate, GenerationRequest, ModelInfo, ModelList, Usage,
	},
	fault::{FaultMode, FaultState},
	model::{detokenize, tokenize, Decoding, NgramModel},
	DEFAULT_MODEL,
};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::{
	body::{Bytes, Incoming},
	header::{self, HeaderMap, HeaderValue},
	server::conn::http1,
	service::service_fn,
	Method, Request, Response, StatusCode,
};
use hyper_util::{
	rt::{TokioIo, TokioTimer},
	server::graceful::GracefulShutdown,
};
use std::{
	fmt,
	future::Future,
	io,
	sync::{Arc, PoisonError, RwLock},
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::{
	io::{AsyncRead, AsyncWrite, ReadBuf},
	net::{TcpListener, TcpStream},
};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Largest document `PUT /documents/NAME` takes: a batch's outputs of 1,024 items of 4 KiB,
/// JSON-escaped at worst (6 bytes a byte), with room to spare.
pub const MAX_DOCUMENT_BYTES: usize = 32 << 20;
/// Most bytes the document store holds in all; a `PUT` past it is refused with 507.
pub const MAX_STORED_DOCUMENT_BYTES: usize = 256 << 20;
/// Longest document name.
pub const MAX_DOCUMENT_NAME: usize = 128;
/// Default of `--oversized-bytes`.
pub const DEFAULT_OVERSIZED_BYTES: usize = 8 << 20;
/// How long shutdown waits for open connections to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Static configuration of the server.
#[derive(Clone)]
pub struct ServerConfig {
	/// The served model names; all of them answer with the same model.
	pub models: Vec<String>,
	/// When set, every `/v1` request needs `Authorization: Bearer <key>`.
	pub api_key: Option<String>,
	/// Whether `/admin/fault` is served.
	pub admin: bool,
	/// Whether `/documents/NAME` is served: an in-memory store of batch documents.
	pub documents: bool,
	/// Length in bytes of the text of the `oversized` fault.
	pub oversized_bytes: usize,
}

impl Default for ServerConfig {
	fn default() -> Self {
		Self {
			models: vec![DEFAULT_MODEL.to_owned()],
			api_key: None,
			admin: false,
			documents: false,
			oversized_bytes: DEFAULT_OVERSIZED_BYTES,
		}
	}
}

impl fmt::Debug for ServerConfig {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.debug_struct("ServerConfig")
			.field("models", &self.models)
			.field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
			.field("admin", &self.admin)
			.field("documents", &self.documents)
			.field("oversized_bytes", &self.oversized_bytes)
			.finish()
	}
}

/// A generated answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
	/// The generated tokens.
	pub tokens: Vec<String>,
	/// The tokens, detokenised.
	pub text: String,
	/// Number of prompt tokens.
	pub prompt_tokens: usize,
}

impl Completion {
	fn new(prompt_tokens: usize, tokens: Vec<String>) -> Self {
		Self { text: detokenize(&tokens), tokens, prompt_tokens }
	}

	/// Token counts for the response.
	pub fn usage(&self) -> Usage {
		Usage {
			prompt_tokens: self.prompt_tokens,
			completion_tokens: self.tokens.len(),
			total_tokens: self.prompt_tokens + self.tokens.len(),
		}
	}
}

/// Everything the request handlers share.
pub struct AppState {
	model: NgramModel,
	config: ServerConfig,
	fault: RwLock<FaultState>,
	/// The one prompt the fault mode applies to (`only_prompt` of `PUT /admin/fault`), every
	/// other being answered honestly; `None`: every request. Locked after `fault` whenever both
	/// are, so that a request reads the two as one `PUT` left them.
	only_prompt: RwLock<Option<String>>,
	documents: RwLock<std::collections::BTreeMap<String, Bytes>>,
}

impl fmt::Debug for AppState {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.debug_struct("AppState")
			.field("corpus_tokens", &self.model.corpus_tokens())
			.field("config", &self.config)
			.field("fault", &self.fault())
			.field("only_prompt", &self.only_prompt())
			.finish_non_exhaustive()
	}
}

impl AppState {
	/// Server state with an initial fault configuration.
	pub fn new(model: NgramModel, config: ServerConfig, fault: FaultState) -> Self {
		Self {
			model,
			config,
			fault: RwLock::new(fault),
			only_prompt: RwLock::new(None),
			documents: Default::default(),
		}
	}

	/// The model.
	pub fn model(&self) -> &NgramModel {
		&self.model
	}

	/// The static configuration.
	pub fn config(&self) -> &ServerConfig {
		&self.config
	}

	/// The current fault configuration.
	pub fn fault(&self) -> FaultState {
		*self.fault.read().unwrap_or_else(PoisonError::into_inner)
	}

	/// Replaces the fault configuration (the prompt it is limited to, if any, stays).
	pub fn set_fault(&self, fault: FaultState) {
		*self.fault.write().unwrap_or_else(PoisonError::into_inner) = fault;
	}

	/// The one prompt the fault mode applies to, if it is limited to one: a completion request
	/// whose prompt ([`GenerationRequest::prompt`]) is exactly this text gets the mode, every
	/// other an honest answer.
	pub fn only_prompt(&self) -> Option<String> {
		self.only_prompt.read().unwrap_or_else(PoisonError::into_inner).clone()
	}

	/// Limits the fault mode to requests whose prompt is exactly `prompt`, or (`None`) applies
	/// it to every request again.
	pub fn set_only_prompt(&self, prompt: Option<String>) {
		let _fault = self.fault.write().unwrap_or_else(PoisonError::into_inner);
		*self.only_prompt.write().unwrap_or_else(PoisonError::into_inner) = prompt;
	}

	/// The fault configuration and the prompt it is limited to, read together: a request never
	/// sees the mode of one `PUT /admin/fault` with the prompt of another.
	pub fn fault_and_prompt(&self) -> (FaultState, Option<String>) {
		let fault = self.fault.read().unwrap_or_else(PoisonError::into_inner);
		let only_prompt = self.only_prompt.read().unwrap_or_else(PoisonError::into_inner).clone();
		(*fault, only_prompt)
	}

	/// The honest answer to a validated request.
	pub fn complete(&self, request: &GenerationRequest) -> Completion {
		let prompt = tokenize(&request.prompt);
		let decoding = Decoding::new(request.temperature, request.seed).unwrap_or(Decoding::Greedy);
		let tokens = self.model.generate(&prompt, request.max_tokens, decoding);
		Completion::new(prompt.len(), tokens)
	}

	/// A plausible answer that is guaranteed to differ from `honest`: sampled at temperature 1
	/// with seed + 1; if that happens to equal the honest answer, its last token is replaced by
	/// another token of the vocabulary (or a token is appended when there is no last token).
	pub fn complete_wrong(&self, request: &GenerationRequest, honest: &Completion) -> Completion {
		let prompt = tokenize(&request.prompt);
		let decoding = Decoding::Sample { temperature: 1.0, seed: request.seed.wrapping_add(1) };
		let mut tokens = self.model.generate(&prompt, request.max_tokens, decoding);
		if tokens == honest.tokens {
			let vocabulary = self.model.vocabulary();
			let other = tokens.last().and_then(|last| vocabulary.iter().find(|t| *t != last));
			match (other.cloned(), tokens.last_mut()) {
				(Some(other), Some(last)) => *last = other,
				_ => tokens.push(vocabulary[0].clone()),
			}
		}
		Completion::new(prompt.len(), tokens)
	}

	fn authorized(&self, headers: &HeaderMap) -> bool {
		let Some(key) = &self.config.api_key else { return true };
		headers
			.get(header::AUTHORIZATION)
			.and_then(|value| value.to_str().ok())
			.and_then(|value| value.trim().split_once(' '))
			.filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
			.is_some_and(|(_, given)| constant_time_eq(given.trim().as_bytes(), key.as_bytes()))
	}
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
	a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `text` repeated (separated by spaces) and cut to exactly `len` bytes.
pub fn oversized_text(text: &str, len: usize) -> String {
	let unit = if text.is_empty() { "." } else { text };
	let mut out = String::with_capacity(len + unit.len() + 1);
	while out.len() < len {
		if !out.is_empty() {
			out.push(' ');
		}
		out.push_str(unit);
	}
	let mut cut = len;
	while !out.is_char_boundary(cut) {
		cut -= 1;
	}
	out.truncate(cut);
	// Cutting inside a multi-byte character leaves a few bytes to fill.
	while out.len() < len {
		out.push(' ');
	}
	out
}

/// The error a handler returns to make hyper drop the connection without a response.
#[derive(Debug)]
pub struct Hangup;

impl fmt::Display for Hangup {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("connection closed on purpose (fault mode hangup)")
	}
}

impl std::error::Error for Hangup {}

type Body = Full<Bytes>;

/// Accepts connections on `listener` until `shutdown` completes, then stops accepting and waits
/// up to [`SHUTDOWN_GRACE`] for open connections to finish.
pub async fn serve(
	listener: TcpListener,
	state: Arc<AppState>,
	shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
	let graceful = GracefulShutdown::new();
	tokio::pin!(shutdown);
	loop {
		tokio::select! {
			accepted = listener.accept() => {
				let stream = match accepted {
					Ok((stream, _peer)) => stream,
					Err(err) => {
						// E.g. out of file descriptors: back off instead of spinning.
						eprintln!("accept failed: {err}");
						tokio::time::sleep(Duration::from_millis(100)).await;
						continue;
					},
				};
				let state = state.clone();
				let service = service_fn(move |req| handle(state.clone(), req));
				let connection = http1::Builder::new()
					.timer(TokioTimer::new())
					.serve_connection(TokioIo::new(QuickAck(stream)), service);
				let connection = graceful.watch(connection);
				tokio::spawn(async move {
					// Errors are client disconnects, malformed HTTP or the hangup fault.
					let _ = connection.await;
				});
			},
			() = &mut shutdown => break,
		}
	}
	drop(listener);
	if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
		eprintln!("shutdown: gave up waiting for open connections");
	}
	Ok(())
}

/// A connection that acknowledges every segment it receives at once (Linux's `TCP_QUICKACK`,
/// set again before every read: the kernel leaves quick-ack mode on its own).
///
/// A client that writes a request's headers and its body in two segments, with Nagle's
/// algorithm on, holds the body until the headers are acknowledged; a server that delays its
/// acknowledgement (Linux waits up to 40 ms for a reply to carry it) then stalls the request
/// that long. The agent node's off-chain HTTP client (`sc-offchain`, hyper without
/// `TCP_NODELAY`) sends the body through a channel after it dispatches the request, so about one
/// call in ten goes out so and stalls: measured, 67 of 523 calls of a run took over 20 ms, 2.7 s
/// of its 3. Acknowledging at once removes the stall (see `docs/benchmarks.md`).
struct QuickAck(TcpStream);

impl QuickAck {
	fn ack_quickly(&self) {
		#[cfg(any(target_os = "linux", target_os = "android"))]
		// Best effort: a socket that refuses it is served as any other.
		let _ = socket2::SockRef::from(&self.0).set_quickack(true);
	}
}

impl AsyncRead for QuickAck {
	fn poll_read(
		self: std::pin::Pin<&mut Self>,
		cx: &mut std::task::Context<'_>,
		buf: &mut ReadBuf<'_>,
	) -> std::task::Poll<io::Result<()>> {
		let this = self.get_mut();
		this.ack_quickly();
		std::pin::Pin::new(&mut this.0).poll_read(cx, buf)
	}
}

impl AsyncWrite for QuickAck {
	fn poll_write(
		self: std::pin::Pin<&mut Self>,
		cx: &mut std::task::Context<'_>,
		buf: &[u8],
	) -> std::task::Poll<io::Result<usize>> {
		std::pin::Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
	}

	fn poll_write_vectored(
		self: std::pin::Pin<&mut Self>,
		cx: &mut std::task::Context<'_>,
		bufs: &[io::IoSlice<'_>],
	) -> std::task::Poll<io::Result<usize>> {
		std::pin::Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
	}

	fn is_write_vectored(&self) -> bool {
		self.0.is_write_vectored()
	}

	fn poll_flush(
		self: std::pin::Pin<&mut Self>,
		cx: &mut std::task::Context<'_>,
	) -> std::task::Poll<io::Result<()>> {
		std::pin::Pin::new(&mut self.get_mut().0).poll_flush(cx)
	}

	fn poll_shutdown(
		self: std::pin::Pin<&mut Self>,
		cx: &mut std::task::Context<'_>,
	) -> std::task::Poll<io::Result<()>> {
		std::pin::Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
	}
}

/// The mode a completion was answered in, kept in its response's extensions for the request
/// log (with `only_prompt` set, not every completion is answered in the configured mode).
#[derive(Clone, Copy, Debug)]
struct AnsweredIn(FaultMode);

async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, Hangup> {
	let method = req.method().clone();
	let path = req.uri().path().to_owned();
	let (fault, only_prompt) = state.fault_and_prompt();
	let result = route(&state, req, &path, fault, only_prompt.as_deref()).await;
	// With the mode limited to one prompt, the log says so, and gives the mode each completion
	// was answered in.
	let scope = if only_prompt.is_some() { " (only_prompt set)" } else { "" };
	match &result {
		Ok(response) => {
			let mode = response.extensions().get::<AnsweredIn>().map_or(fault.mode, |a| a.0);
			eprintln!("{method} {path} {} fault={mode}{scope}", response.status().as_u16())
		},
		Err(Hangup) => eprintln!("{method} {path} hangup fault={}{scope}", fault.mode),
	}
	result
}

async fn route(
	state: &AppState,
	req: Request<Incoming>,
	path: &str,
	fault: FaultState,
	only_prompt: Option<&str>,
) -> Result<Response<Body>, Hangup> {
	if path == "/v1" || path.starts_with("/v1/") {
		if !state.authorized(req.headers()) {
			let mut response = error_response(&ApiError::invalid(
				StatusCode::UNAUTHORIZED,
				"invalid_api_key",
				"missing or invalid API key; send the header Authorization: Bearer <key>",
			));
			response
				.headers_mut()
				.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
			return Ok(response);
		}
		let endpoint = match path {
			"/v1/models" if req.method() == Method::GET => return Ok(models(state)),
			"/v1/models" => return Ok(method_not_allowed("GET")),
			"/v1/chat/completions" => Endpoint::Chat,
			"/v1/completions" => Endpoint::Text,
			_ => return Ok(not_found(path)),
		};
		if req.method() != Method::POST {
			return Ok(method_not_allowed("POST"));
		}
		completion(state, req, endpoint, fault, only_prompt).await
	} else if let Some(name) = path.strip_prefix("/documents/").filter(|_| state.config.documents) {
		Ok(match *req.method() {
			Method::GET => get_document(state, name),
			Method::PUT => put_document(state, name, req).await,
			_ => method_not_allowed("GET, PUT"),
		})
	} else if state.config.admin && path == "/admin/fault" {
		Ok(match *req.method() {
			Method::GET => {
				let (fault, only_prompt) = state.fault_and_prompt();
				fault_response(fault, only_prompt.as_deref())
			},
			Method::PUT => put_fault(state, req).await,
			_ => method_not_allowed("GET, PUT"),
		})
	} else {
		Ok(not_found(path))
	}
}

fn models(state: &AppState) -> Response<Body> {
	let data = state
		.config
		.models
		.iter()
		.map(|id| ModelInfo { id, object: "model", created: 0, owned_by: "agentchain" })
		.collect();
	json_response(StatusCode::OK, to_json(&ModelList { object: "list", data }))
}

async fn completion(
	state: &AppState,
	req: Request<Incoming>,
	endpoint: Endpoint,
	fault: FaultState,
	only_prompt: Option<&str>,
) -> Result<Response<Body>, Hangup> {
	let body = match read_body(req).await {
		Ok(body) => body,
		Err(err) => return Ok(error_response(&err)),
	};
	let models = &state.config.models;
	let parsed = match endpoint {
		Endpoint::Chat => serde_json::from_slice::<ChatCompletionRequest>(&body)
			.map_err(|err| parse_error(&err))
			.and_then(|req| GenerationRequest::from_chat(req, models)),
		Endpoint::Text => serde_json::from_slice::<CompletionRequest>(&body)
			.map_err(|err| parse_error(&err))
			.and_then(|req| GenerationRequest::from_text(req, models)),
	};
	let request = match parsed {
		Ok(request) => request,
		Err(err) => return Ok(error_response(&err)),
	};

	let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
	let body = |model: String, text: String, completion: &Completion| {
		completion_body(&request, model, text, completion.usage(), created)
	};
	let respond = |model: String, completion: Completion| {
		json_response(StatusCode::OK, body(model, completion.text.clone(), &completion))
	};
	let name = request.model.clone();
	let mode = fault.mode_for(only_prompt, &request.prompt);
	let mut response = match mode {
		FaultMode::Honest => respond(name, state.complete(&request)),
		FaultMode::Wrong => {
			let honest = state.complete(&request);
			respond(name, state.complete_wrong(&request, &honest))
		},
		FaultMode::Slow => {
			tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
			respond(name, state.complete(&request))
		},
		FaultMode::Error => error_response(&ApiError {
			status: StatusCode::INTERNAL_SERVER_ERROR,
			message: "the model failed to produce an answer (injected fault)".to_owned(),
			kind: "server_error",
			param: None,
			code: "internal_error",
		}),
		FaultMode::Malformed => {
			let honest = state.complete(&request);
			let full = body(name, honest.text.clone(), &honest);
			// A strict prefix of a JSON object never parses: its closing brace is missing.
			let mut cut = full.len() / 2;
			while !full.is_char_boundary(cut) {
				cut -= 1;
			}
			json_response(StatusCode::OK, full[..cut].to_owned())
		},
		FaultMode::Oversized => {
			let honest = state.complete(&request);
			let text = oversized_text(&honest.text, state.config.oversized_bytes);
			json_response(StatusCode::OK, body(name, text, &honest))
		},
		FaultMode::WrongModel => respond(format!("{name}-impostor"), state.complete(&request)),
		FaultMode::Hangup => return Err(Hangup),
		FaultMode::Refuse => error_response(&ApiError {
			status: StatusCode::BAD_REQUEST,
			message: "the prompt was filtered by the content policy (injected fault)".to_owned(),
			kind: "invalid_request_error",
			param: Some("prompt"),
			code: "content_filter",
		}),
	};
	response.extensions_mut().insert(AnsweredIn(mode));
	Ok(response)
}

async fn put_fault(state: &AppState, req: Request<Incoming>) -> Response<Body> {
	let body = match read_body(req).await {
		Ok(body) => body,
		Err(err) => return error_response(&err),
	};
	let update: FaultUpdate = match serde_json::from_slice(&body) {
		Ok(update) => update,
		Err(err) => return error_response(&parse_error(&err)),
	};
	let mode = match update.mode.parse::<FaultMode>() {
		Ok(mode) => mode,
		Err(err) => return error_response(&ApiError::bad_param("mode", err.to_string())),
	};
	// Both under the fault's lock (taken first, as every reader does): no request sees the
	// new mode with the old prompt, or the other way round.
	let mut guard = state.fault.write().unwrap_or_else(PoisonError::into_inner);
	guard.mode = mode;
	if let Some(delay_ms) = update.delay_ms {
		guard.delay_ms = delay_ms;
	}
	let mut only_prompt = state.only_prompt.write().unwrap_or_else(PoisonError::into_inner);
	*only_prompt = update.only_prompt;
	let current = (*guard, only_prompt.clone());
	drop(only_prompt);
	drop(guard);
	fault_response(current.0, current.1.as_deref())
}

/// A document name: 1 to [`MAX_DOCUMENT_NAME`] ASCII letters, digits, `-`, `_` or `.`, not
/// starting with a dot.
fn valid_document_name(name: &str) -> bool {
	(1..=MAX_DOCUMENT_NAME).contains(&name.len())
		&& !name.starts_with('.')
		&& name
			.bytes()
			.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn get_document(state: &AppState, name: &str) -> Response<Body> {
	let documents = state.documents.read().unwrap_or_else(PoisonError::into_inner);
	match documents.get(name) {
		Some(bytes) => {
			let mut response = Response::new(Full::new(bytes.clone()));
			response
				.headers_mut()
				.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
			response
		},
		None => not_found(&format!("/documents/{name}")),
	}
}

async fn put_document(state: &AppState, name: &str, req: Request<Incoming>) -> Response<Body> {
	if !valid_document_name(name) {
		return error_response(&ApiError::bad_param(
			"name",
			format!("a document name is 1 to {MAX_DOCUMENT_NAME} of A-Z a-z 0-9 - _ ., not starting with a dot"),
		));
	}
	let body = match read_limited(req, MAX_DOCUMENT_BYTES).await {
		Ok(body) => body,
		Err(err) => return error_response(&err),
	};
	let mut documents = state.documents.write().unwrap_or_else(PoisonError::into_inner);
	// Written once: nobody replaces a document others have read (the same bytes again are
	// fine, as a publisher's retry).
	if let Some(existing) = documents.get(name) {
		return if *existing == body {
			json_response(StatusCode::OK, format!(r#"{{"name":"{name}","bytes":{}}}"#, body.len()))
		} else {
			error_response(&ApiError::invalid(
				StatusCode::CONFLICT,
				"document_exists",
				format!("/documents/{name} is already written with other bytes"),
			))
		};
	}
	let stored: usize =
		documents.iter().filter(|(key, _)| *key != name).map(|(_, doc)| doc.len()).sum();
	if stored.saturating_add(body.len()) > MAX_STORED_DOCUMENT_BYTES {
		return error_response(&ApiError::invalid(
			StatusCode::INSUFFICIENT_STORAGE,
			"store_full",
			format!("the document store holds at most {MAX_STORED_DOCUMENT_BYTES} bytes"),
		));
	}
	let len = body.len();
	documents.insert(name.to_owned(), body);
	json_response(StatusCode::OK, format!(r#"{{"name":"{name}","bytes":{len}}}"#))
}

fn fault_response(fault: FaultState, only_prompt: Option<&str>) -> Response<Body> {
	let body = FaultBody { mode: fault.mode.as_str(), delay_ms: fault.delay_ms, only_prompt };
	json_response(StatusCode::OK, to_json(&body))
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, ApiError> {
	read_limited(req, MAX_BODY_BYTES).await
}

/// The request's body, refused with 413 past `max` bytes.
async fn read_limited(req: Request<Incoming>, max: usize) -> Result<Bytes, ApiError> {
	let too_large = || {
		ApiError::invalid(
			StatusCode::PAYLOAD_TOO_LARGE,
			"request_too_large",
			format!("the request body exceeds {max} bytes"),
		)
	};
	let declared = req
		.headers()
		.get(header::CONTENT_LENGTH)
		.and_then(|value| value.to_str().ok())
		.and_then(|value| value.parse::<u64>().ok());
	if declared.is_some_and(|len| len > max as u64) {
		return Err(too_large());
	}
	match Limited::new(req.into_body(), max).collect().await {
		Ok(collected) => Ok(collected.to_bytes()),
		Err(err) if err.is::<LengthLimitError>() => Err(too_large()),
		Err(err) => Err(ApiError::invalid(
			StatusCode::BAD_REQUEST,
			"invalid_body",
			format!("failed to read the request body: {err}"),
		)),
	}
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
	serde_json::to_string(value).expect("response types serialise infallibly")
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
	let mut response = Response::new(Full::new(Bytes::from(body)));
	*response.status_mut() = status;
	response
		.headers_mut()
		.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
	response
}

fn error_response(err: &ApiError) -> Response<Body> {
	json_response(err.status, err.body())
}

fn not_found(path: &str) -> Response<Body> {
	error_response(&ApiError::invalid(
		StatusCode::NOT_FOUND,
		"unknown_url",
		format!("unknown path {path}"),
	))
}

fn method_not_allowed(allow: &'static str) -> Response<Body> {
	let mut response = error_response(&ApiError::invalid(
		StatusCode::METHOD_NOT_ALLOWED,
		"method_not_allowed",
		format!("method not allowed; allowed: {allow}"),
	));
	response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
	response
}

#[cfg(test)]
mod tests {
	use super::*;

	fn state(corpus: &str) -> AppState {
		let model = NgramModel::from_text(corpus).unwrap();
		AppState::new(model, ServerConfig::default(), FaultState::default())
	}

	fn request(prompt: &str, max_tokens: usize, temperature: f64, seed: u64) -> GenerationRequest {
		GenerationRequest {
			endpoint: Endpoint::Text,
			model: DEFAULT_MODEL.to_owned(),
			prompt: prompt.to_owned(),
			max_tokens,
			temperature,
			seed,
		}
	}

	#[test]
	fn wrong_answers_always_differ_from_honest_ones() {
		// A corpus with a single continuation everywhere: sampling cannot differ by itself.
		let s = state("a b a b a b");
		for max_tokens in [0, 1, 2, 5] {
			let req = request("a", max_tokens, 0.0, 0);
			let honest = s.complete(&req);
			let wrong = s.complete_wrong(&req, &honest);
			assert_ne!(wrong.text, honest.text, "max_tokens {max_tokens}");
		}
		// A one-word vocabulary still gives a different answer.
		let s = state("echo");
		let req = request("echo", 3, 0.0, 0);
		let honest = s.complete(&req);
		assert_ne!(s.complete_wrong(&req, &honest).text, honest.text);
		// On the real corpus the answers differ too.
		let s = state(crate::DEFAULT_CORPUS);
		for seed in 0..20 {
			let req = request("the river", 16, 1.0, seed);
			let honest = s.complete(&req);
			assert_ne!(s.complete_wrong(&req, &honest).text, honest.text);
		}
	}

	#[test]
	fn oversized_text_has_exactly_the_requested_length() {
		assert_eq!(oversized_text("abc", 10), "abc abc ab");
		assert_eq!(oversized_text("", 3), ". .");
		assert_eq!(oversized_text("é", 4), "é  ");
		assert_eq!(oversized_text("éé", 3).len(), 3);
		assert_eq!(oversized_text("x", 0), "");
	}

	#[test]
	fn bearer_tokens_are_checked() {
		let s = AppState::new(
			NgramModel::from_text("x").unwrap(),
			ServerConfig { api_key: Some("s3cret".into()), ..ServerConfig::default() },
			FaultState::default(),
		);
		let headers = |value: &str| {
			let mut map = HeaderMap::new();
			map.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
			map
		};
		assert!(s.authorized(&headers("Bearer s3cret")));
		assert!(s.authorized(&headers("bearer s3cret")));
		assert!(!s.authorized(&headers("Bearer s3cre")));
		assert!(!s.authorized(&headers("Basic s3cret")));
		assert!(!s.authorized(&headers("s3cret")));
		assert!(!s.authorized(&HeaderMap::new()));
		assert!(!format!("{:?}", s.config()).contains("s3cret"));
	}
}
