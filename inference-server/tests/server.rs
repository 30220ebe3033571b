//! In-process HTTP tests: a server on 127.0.0.1:0 and raw HTTP/1.1 over a TCP stream.

use agentchain_inference_server::{
	api::{Endpoint, GenerationRequest},
	serve, AppState, FaultMode, FaultState, NgramModel, ServerConfig, DEFAULT_CORPUS,
};
use serde_json::{json, Value};
use std::{
	net::SocketAddr,
	sync::Arc,
	time::{Duration, Instant},
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream},
	sync::oneshot,
	task::JoinHandle,
};

const TIMEOUT: Duration = Duration::from_secs(20);

struct TestServer {
	addr: SocketAddr,
	state: Arc<AppState>,
	stop: Option<oneshot::Sender<()>>,
	task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
	async fn start(config: ServerConfig, mode: FaultMode) -> Self {
		Self::start_with(config, FaultState { mode, delay_ms: 300 }).await
	}

	async fn start_with(config: ServerConfig, fault: FaultState) -> Self {
		let model = NgramModel::from_text(DEFAULT_CORPUS).unwrap();
		let state = Arc::new(AppState::new(model, config, fault));
		let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let addr = listener.local_addr().unwrap();
		let (stop, stopped) = oneshot::channel::<()>();
		let task = tokio::spawn(serve(listener, state.clone(), async {
			let _ = stopped.await;
		}));
		Self { addr, state, stop: Some(stop), task }
	}

	async fn stop(mut self) {
		let _ = self.stop.take().unwrap().send(());
		tokio::time::timeout(TIMEOUT, &mut self.task).await.unwrap().unwrap().unwrap();
	}

	async fn get(&self, path: &str) -> Reply {
		self.send("GET", path, &[], "").await
	}

	async fn post(&self, path: &str, body: &Value) -> Reply {
		self.send("POST", path, &[], &body.to_string()).await
	}

	async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
		let mut head = format!(
			"{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
			self.addr,
			body.len()
		);
		for (name, value) in headers {
			head.push_str(&format!("{name}: {value}\r\n"));
		}
		head.push_str("\r\n");
		self.raw(&[head.as_bytes(), body.as_bytes()].concat()).await
	}

	/// Writes `request` and reads until the server closes the connection.
	async fn raw(&self, request: &[u8]) -> Reply {
		let mut stream = TcpStream::connect(self.addr).await.unwrap();
		stream.write_all(request).await.unwrap();
		let mut bytes = Vec::new();
		tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut bytes))
			.await
			.expect("the server did not close the connection")
			.unwrap();
		Reply::parse(bytes)
	}
}

#[derive(Debug)]
struct Reply {
	raw_len: usize,
	status: u16,
	headers: Vec<(String, String)>,
	body: Vec<u8>,
}

impl Reply {
	fn parse(bytes: Vec<u8>) -> Self {
		if bytes.is_empty() {
			return Self { raw_len: 0, status: 0, headers: Vec::new(), body: Vec::new() };
		}
		let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("no end of headers");
		let head = std::str::from_utf8(&bytes[..split]).unwrap();
		let mut lines = head.split("\r\n");
		let status_line = lines.next().unwrap();
		assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
		let status = status_line[9..12].parse().unwrap();
		let headers = lines
			.map(|line| {
				let (name, value) = line.split_once(':').unwrap();
				(name.trim().to_ascii_lowercase(), value.trim().to_owned())
			})
			.collect::<Vec<_>>();
		let body = bytes[split + 4..].to_vec();
		if let Some((_, len)) = headers.iter().find(|(name, _)| name == "content-length") {
			assert_eq!(body.len(), len.parse::<usize>().unwrap(), "body length");
		}
		Self { raw_len: bytes.len(), status, headers, body }
	}

	fn header(&self, name: &str) -> Option<&str> {
		self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
	}

	fn json(&self) -> Value {
		assert_eq!(self.header("content-type"), Some("application/json"));
		serde_json::from_slice(&self.body).unwrap_or_else(|err| {
			panic!("invalid JSON ({err}): {}", String::from_utf8_lossy(&self.body))
		})
	}

	fn error_code(&self) -> String {
		let json = self.json();
		assert!(json["error"]["message"].is_string(), "{json}");
		assert!(json["error"]["type"].is_string(), "{json}");
		json["error"]["code"].as_str().unwrap().to_owned()
	}
}

fn chat(content: &str, max_tokens: u64, temperature: f64, seed: u64) -> Value {
	json!({
		"model": "ngram-en",
		"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": content}],
		"max_tokens": max_tokens,
		"temperature": temperature,
		"seed": seed,
	})
}

fn content(reply: &Reply) -> String {
	assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
	reply.json()["choices"][0]["message"]["content"].as_str().unwrap().to_owned()
}

/// What the model itself says, bypassing HTTP.
fn expected(
	state: &AppState,
	endpoint: Endpoint,
	prompt: &str,
	max_tokens: usize,
	t: f64,
	seed: u64,
) -> String {
	let request = GenerationRequest {
		endpoint,
		model: "ngram-en".into(),
		prompt: prompt.into(),
		max_tokens,
		temperature: t,
		seed,
	};
	state.complete(&request).text
}

#[tokio::test]
async fn chat_completion_happy_path() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	let reply = server
		.post("/v1/chat/completions", &chat("Tell me about the river", 12, 0.0, 0))
		.await;
	assert_eq!(reply.status, 200);
	let json = reply.json();
	assert_eq!(json["object"], "chat.completion");
	assert_eq!(json["model"], "ngram-en");
	let id = json["id"].as_str().unwrap();
	assert!(id.starts_with("chatcmpl-") && id.len() == 25, "{id}");
	assert!(id[9..].chars().all(|c| c.is_ascii_hexdigit()));
	assert!(json["created"].as_u64().unwrap() > 1_600_000_000);
	let choice = &json["choices"][0];
	assert_eq!(choice["index"], 0);
	assert_eq!(choice["message"]["role"], "assistant");
	assert_eq!(choice["finish_reason"], "length");
	let text = choice["message"]["content"].as_str().unwrap();
	let prompt = "You are terse.\nTell me about the river";
	assert_eq!(text, expected(&server.state, Endpoint::Chat, prompt, 12, 0.0, 0));
	// "you are terse . tell me about the river"
	assert_eq!(
		json["usage"],
		json!({"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21})
	);

	// The same request gives the same answer and id; another seed at T=1 another id.
	let again = server
		.post("/v1/chat/completions", &chat("Tell me about the river", 12, 0.0, 0))
		.await;
	assert_eq!(again.json()["id"], json["id"]);
	assert_eq!(content(&again), text);
	let sampled = server
		.post("/v1/chat/completions", &chat("Tell me about the river", 12, 1.0, 5))
		.await;
	assert_eq!(content(&sampled), expected(&server.state, Endpoint::Chat, prompt, 12, 1.0, 5));
	assert_ne!(sampled.json()["id"], json["id"]);
	server.stop().await;
}

#[tokio::test]
async fn text_completion_happy_path_and_defaults() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	let body =
		json!({"model": "ngram-en", "prompt": "A ledger is", "max_tokens": 7, "temperature": 0});
	let reply = server.post("/v1/completions", &body).await;
	assert_eq!(reply.status, 200);
	let json = reply.json();
	assert_eq!(json["object"], "text_completion");
	assert!(json["id"].as_str().unwrap().starts_with("cmpl-"));
	assert_eq!(json["choices"][0]["finish_reason"], "length");
	let text = json["choices"][0]["text"].as_str().unwrap();
	assert_eq!(text, expected(&server.state, Endpoint::Text, "A ledger is", 7, 0.0, 0));
	assert_eq!(json["usage"]["completion_tokens"], 7);

	// Defaults: 16 tokens, temperature 1, seed 0; max_tokens above 1024 is capped.
	let reply = server
		.post("/v1/completions", &json!({"model": "ngram-en", "prompt": ""}))
		.await;
	let json = reply.json();
	assert_eq!(
		json["usage"],
		json!({"prompt_tokens": 0, "completion_tokens": 16, "total_tokens": 16})
	);
	assert_eq!(json["choices"][0]["text"], expected(&server.state, Endpoint::Text, "", 16, 1.0, 0));
	let big = json!({"model": "ngram-en", "prompt": "rain", "max_tokens": 5000});
	assert_eq!(
		server.post("/v1/completions", &big).await.json()["usage"]["completion_tokens"],
		1024
	);
	server.stop().await;
}

#[tokio::test]
async fn models_are_listed_and_unknown_models_are_404() {
	let config =
		ServerConfig { models: vec!["ngram-en".into(), "tiny".into()], ..Default::default() };
	let server = TestServer::start(config, FaultMode::Honest).await;
	let reply = server.get("/v1/models").await;
	assert_eq!(reply.status, 200);
	assert_eq!(
		reply.json(),
		json!({"object": "list", "data": [
			{"id": "ngram-en", "object": "model", "created": 0, "owned_by": "agentchain"},
			{"id": "tiny", "object": "model", "created": 0, "owned_by": "agentchain"},
		]})
	);
	// Every name serves the same model.
	let mut tiny = chat("weather", 8, 0.0, 0);
	tiny["model"] = json!("tiny");
	let reply = server.post("/v1/chat/completions", &tiny).await;
	assert_eq!(reply.json()["model"], "tiny");
	assert_eq!(
		content(&reply),
		content(&server.post("/v1/chat/completions", &chat("weather", 8, 0.0, 0)).await)
	);

	let mut unknown = chat("weather", 8, 0.0, 0);
	unknown["model"] = json!("gpt-4o");
	let reply = server.post("/v1/chat/completions", &unknown).await;
	assert_eq!(reply.status, 404);
	assert_eq!(reply.error_code(), "model_not_found");
	assert_eq!(reply.json()["error"]["type"], "invalid_request_error");
	server.stop().await;
}

#[tokio::test]
async fn bad_requests_are_rejected() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	let post = |body: &'static str| server.send("POST", "/v1/chat/completions", &[], body);
	let reply = post("{\"model\": \"ngram-en\", \"messages\": [").await;
	assert_eq!((reply.status, reply.error_code().as_str()), (400, "invalid_json"));
	let reply = post("{\"model\": \"ngram-en\"}").await;
	assert_eq!((reply.status, reply.error_code().as_str()), (400, "invalid_request"));
	for (field, value) in
		[("stream", json!(true)), ("temperature", json!(2.01)), ("temperature", json!(-1))]
	{
		let mut body = chat("x", 4, 0.0, 0);
		body[field] = value;
		let reply = server.post("/v1/chat/completions", &body).await;
		assert_eq!(reply.status, 400, "{field}");
		assert_eq!(reply.json()["error"]["param"], field);
	}
	let reply = server
		.post("/v1/completions", &json!({"model": "ngram-en", "prompt": ["a", "b"]}))
		.await;
	assert_eq!(reply.status, 400);

	let reply = server.get("/v1/embeddings").await;
	assert_eq!((reply.status, reply.error_code().as_str()), (404, "unknown_url"));
	assert_eq!(server.get("/").await.status, 404);
	let reply = server.get("/v1/chat/completions").await;
	assert_eq!((reply.status, reply.header("allow")), (405, Some("POST")));
	let reply = server.send("DELETE", "/v1/models", &[], "").await;
	assert_eq!((reply.status, reply.header("allow")), (405, Some("GET")));

	// A declared body over 1 MiB is refused before it is read.
	let head = format!(
		"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
		(1 << 20) + 1
	);
	let reply = server.raw(head.as_bytes()).await;
	assert_eq!((reply.status, reply.error_code().as_str()), (413, "request_too_large"));
	// A body of exactly 1 MiB is read (and then judged on its content).
	let mut padded = chat("x", 4, 0.0, 0).to_string();
	padded.pop();
	padded.push_str(",\"pad\":\"");
	padded.push_str(&"p".repeat((1 << 20) - padded.len() - 2));
	padded.push_str("\"}");
	assert_eq!(padded.len(), 1 << 20);
	let reply = server.send("POST", "/v1/chat/completions", &[], &padded).await;
	assert_eq!(reply.status, 200);
	server.stop().await;
}

#[tokio::test]
async fn api_key_is_required_when_configured() {
	let config =
		ServerConfig { api_key: Some("s3cret-key".into()), admin: true, ..Default::default() };
	let server = TestServer::start(config, FaultMode::Honest).await;
	let body = chat("markets", 4, 0.0, 0).to_string();
	let reply = server.send("POST", "/v1/chat/completions", &[], &body).await;
	assert_eq!((reply.status, reply.error_code().as_str()), (401, "invalid_api_key"));
	assert!(!String::from_utf8_lossy(&reply.body).contains("s3cret"));
	let wrong = [("Authorization", "Bearer not-the-key")];
	assert_eq!(server.send("POST", "/v1/chat/completions", &wrong, &body).await.status, 401);
	assert_eq!(server.send("GET", "/v1/models", &wrong, "").await.status, 401);
	// Unknown /v1 paths do not reveal anything without the key either.
	assert_eq!(server.send("GET", "/v1/nothing", &[], "").await.status, 401);

	let right = [("Authorization", "Bearer s3cret-key")];
	let reply = server.send("POST", "/v1/chat/completions", &right, &body).await;
	assert_eq!(reply.status, 200);
	assert!(!content(&reply).is_empty());
	assert_eq!(server.send("GET", "/v1/models", &right, "").await.status, 200);
	// The admin endpoint is a local test control and needs no key.
	assert_eq!(server.get("/admin/fault").await.status, 200);
	server.stop().await;
}

async fn honest_content(body: &Value) -> String {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	let text = content(&server.post("/v1/chat/completions", body).await);
	server.stop().await;
	text
}

#[tokio::test]
async fn fault_wrong_answers_differently() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Wrong).await;
	for (temperature, seed) in [(0.0, 0), (1.0, 0), (1.0, 1), (0.5, 99)] {
		let body = chat("The harbour master writes", 16, temperature, seed);
		let wrong = content(&server.post("/v1/chat/completions", &body).await);
		assert_ne!(wrong, honest_content(&body).await);
		assert!(!wrong.is_empty());
	}
	// Even an empty honest answer has a wrong counterpart.
	let wrong = content(&server.post("/v1/chat/completions", &chat("x", 0, 0.0, 0)).await);
	assert!(!wrong.is_empty());
	// Wrong answers are reproducible too.
	let body = chat("agents", 10, 0.0, 3);
	let first = content(&server.post("/v1/chat/completions", &body).await);
	assert_eq!(first, content(&server.post("/v1/chat/completions", &body).await));
	// Faults only touch the completion endpoints.
	assert_eq!(server.get("/v1/models").await.status, 200);
	server.stop().await;
}

#[tokio::test]
async fn fault_error_is_a_500_with_an_openai_error() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Error).await;
	let reply = server.post("/v1/chat/completions", &chat("rain", 4, 0.0, 0)).await;
	assert_eq!(reply.status, 500);
	assert_eq!(reply.error_code(), "internal_error");
	assert_eq!(reply.json()["error"]["type"], "server_error");
	let reply = server
		.post("/v1/completions", &json!({"model": "ngram-en", "prompt": "rain"}))
		.await;
	assert_eq!(reply.status, 500);
	// Invalid requests are still judged first.
	assert_eq!(server.post("/v1/completions", &json!({"model": "ngram-en"})).await.status, 400);
	server.stop().await;
}

#[tokio::test]
async fn fault_malformed_is_not_json() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Malformed).await;
	for path in ["/v1/chat/completions", "/v1/completions"] {
		let body = json!({"model": "ngram-en", "prompt": "rivers", "messages": [{"role": "user", "content": "rivers"}]});
		let reply = server.post(path, &body).await;
		assert_eq!(reply.status, 200);
		assert_eq!(reply.header("content-type"), Some("application/json"));
		assert!(!reply.body.is_empty());
		assert!(serde_json::from_slice::<Value>(&reply.body).is_err(), "{path} parsed");
		assert!(reply.body.starts_with(b"{\"id\":"));
	}
	server.stop().await;
}

#[tokio::test]
async fn fault_oversized_returns_a_huge_valid_completion() {
	let config = ServerConfig { oversized_bytes: 200_000, ..Default::default() };
	let server = TestServer::start(config, FaultMode::Oversized).await;
	let reply = server.post("/v1/chat/completions", &chat("the market", 8, 0.0, 0)).await;
	assert_eq!(reply.status, 200);
	let text = content(&reply);
	assert_eq!(text.len(), 200_000);
	assert!(text.starts_with(&honest_content(&chat("the market", 8, 0.0, 0)).await));
	let reply = server
		.post("/v1/completions", &json!({"model": "ngram-en", "prompt": "x"}))
		.await;
	assert!(reply.json()["choices"][0]["text"].as_str().unwrap().len() >= 200_000);
	server.stop().await;
}

#[tokio::test]
async fn fault_wrong_model_names_an_impostor() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::WrongModel).await;
	let body = chat("weather and rivers", 10, 0.0, 0);
	let reply = server.post("/v1/chat/completions", &body).await;
	assert_eq!(reply.json()["model"], "ngram-en-impostor");
	assert_eq!(content(&reply), honest_content(&body).await);
	server.stop().await;
}

#[tokio::test]
async fn fault_hangup_closes_without_a_byte() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Hangup).await;
	let reply = server.post("/v1/chat/completions", &chat("hello", 4, 0.0, 0)).await;
	assert_eq!(reply.raw_len, 0);
	let reply = server
		.post("/v1/completions", &json!({"model": "ngram-en", "prompt": "hello"}))
		.await;
	assert_eq!(reply.raw_len, 0);
	// Other endpoints still answer.
	assert_eq!(server.get("/v1/models").await.status, 200);
	server.stop().await;
}

#[tokio::test]
async fn fault_slow_delays_an_honest_answer() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Slow).await;
	let body = chat("slowly now", 6, 0.0, 0);
	let started = Instant::now();
	let reply = server.post("/v1/chat/completions", &body).await;
	let elapsed = started.elapsed();
	assert!(elapsed >= Duration::from_millis(300), "answered after {elapsed:?}");
	assert_eq!(content(&reply), honest_content(&body).await);
	server.stop().await;

	// The models list is not delayed (a long delay keeps this robust on a busy machine).
	let fault = FaultState { mode: FaultMode::Slow, delay_ms: 60_000 };
	let server = TestServer::start_with(ServerConfig::default(), fault).await;
	let started = Instant::now();
	assert_eq!(server.get("/v1/models").await.status, 200);
	assert!(started.elapsed() < Duration::from_secs(10));
	server.stop().await;
}

#[tokio::test]
async fn admin_switches_the_fault_mode_at_run_time() {
	let config = ServerConfig { admin: true, ..Default::default() };
	let server =
		TestServer::start_with(config, FaultState { mode: FaultMode::Honest, delay_ms: 30_000 })
			.await;
	let body = chat("the bridge", 6, 0.0, 0);
	let honest = content(&server.post("/v1/chat/completions", &body).await);

	let reply = server.get("/admin/fault").await;
	assert_eq!(reply.json(), json!({"mode": "honest", "delay_ms": 30_000}));

	let reply = server.send("PUT", "/admin/fault", &[], r#"{"mode":"error"}"#).await;
	assert_eq!(reply.json(), json!({"mode": "error", "delay_ms": 30_000}));
	assert_eq!(server.post("/v1/chat/completions", &body).await.status, 500);

	let reply = server
		.send("PUT", "/admin/fault", &[], r#"{"mode":"slow","delay_ms":300}"#)
		.await;
	assert_eq!(reply.json(), json!({"mode": "slow", "delay_ms": 300}));
	let started = Instant::now();
	assert_eq!(content(&server.post("/v1/chat/completions", &body).await), honest);
	assert!(started.elapsed() >= Duration::from_millis(300));

	let reply = server.send("PUT", "/admin/fault", &[], r#"{"mode":"flaky"}"#).await;
	assert_eq!(reply.status, 400);
	assert!(reply.json()["error"]["message"].as_str().unwrap().contains("wrong-model"));
	assert_eq!(server.send("PUT", "/admin/fault", &[], r#"{"delay_ms":1}"#).await.status, 400);
	assert_eq!(server.send("PUT", "/admin/fault", &[], "not json").await.status, 400);
	assert_eq!(server.send("POST", "/admin/fault", &[], "{}").await.status, 405);
	assert_eq!(server.get("/admin/fault").await.json()["mode"], "slow");

	let reply = server.send("PUT", "/admin/fault", &[], r#"{"mode":"honest"}"#).await;
	assert_eq!(reply.json(), json!({"mode": "honest", "delay_ms": 300}));
	assert_eq!(content(&server.post("/v1/chat/completions", &body).await), honest);
	server.stop().await;
}

#[tokio::test]
async fn admin_is_404_unless_enabled() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	assert_eq!(server.get("/admin/fault").await.status, 404);
	let reply = server.send("PUT", "/admin/fault", &[], r#"{"mode":"error"}"#).await;
	assert_eq!(reply.status, 404);
	assert_eq!(server.state.fault().mode, FaultMode::Honest);
	server.stop().await;
}

async fn put_fault(server: &TestServer, body: Value) -> Reply {
	server.send("PUT", "/admin/fault", &[], &body.to_string()).await
}

/// `only_prompt`: the fault mode for one prompt, honest answers to every other (an executor that
/// lies on one item of a batch, as `e2e/test/batches.test.mjs` has one do).
#[tokio::test]
async fn admin_limits_the_fault_mode_to_one_prompt() {
	let config = ServerConfig { admin: true, ..Default::default() };
	let server = TestServer::start(config, FaultMode::Honest).await;
	// The request an agent node makes for a task or a batch item: one user message.
	let user = |content: &str| {
		json!({
			"model": "ngram-en",
			"messages": [{"role": "user", "content": content}],
			"max_tokens": 8, "temperature": 0, "seed": 7, "stream": false,
		})
	};
	let text = |prompt: &str| {
		json!({
			"model": "ngram-en", "prompt": prompt,
			"max_tokens": 8, "temperature": 0, "seed": 7,
		})
	};
	let (target, other) = ("Item 13. Tell me about the river", "Item 3. Tell me about the market");
	let honest_target = content(&server.post("/v1/chat/completions", &user(target)).await);
	let honest_other = content(&server.post("/v1/chat/completions", &user(other)).await);

	let reply = put_fault(&server, json!({"mode": "wrong", "only_prompt": target})).await;
	assert_eq!(reply.json(), json!({"mode": "wrong", "delay_ms": 300, "only_prompt": target}));
	assert_eq!(server.get("/admin/fault").await.json()["only_prompt"], target);
	assert_eq!(server.state.only_prompt().as_deref(), Some(target));

	// The prompt named gets the fault, on either endpoint; every other prompt an honest answer.
	let wrong = content(&server.post("/v1/chat/completions", &user(target)).await);
	assert_ne!(wrong, honest_target);
	assert_eq!(content(&server.post("/v1/chat/completions", &user(other)).await), honest_other);
	let texts = |reply: Reply| reply.json()["choices"][0]["text"].as_str().unwrap().to_owned();
	assert_eq!(texts(server.post("/v1/completions", &text(target)).await), wrong);
	assert_eq!(texts(server.post("/v1/completions", &text(other)).await), honest_other);
	// Compared exactly: the same words after a system message, or with a space more, are
	// another prompt.
	let after_system = chat(target, 8, 0.0, 7);
	let prompt = format!("You are terse.\n{target}");
	assert_eq!(
		content(&server.post("/v1/chat/completions", &after_system).await),
		expected(&server.state, Endpoint::Chat, &prompt, 8, 0.0, 7)
	);
	let spaced = format!("{target} ");
	assert_eq!(
		content(&server.post("/v1/chat/completions", &user(spaced.as_str())).await),
		expected(&server.state, Endpoint::Chat, &spaced, 8, 0.0, 7)
	);

	// Any mode may be limited so, an error as well as a wrong answer.
	let reply = put_fault(&server, json!({"mode": "error", "only_prompt": target})).await;
	assert_eq!(reply.json()["only_prompt"], target);
	assert_eq!(server.post("/v1/chat/completions", &user(target)).await.status, 500);
	assert_eq!(content(&server.post("/v1/chat/completions", &user(other)).await), honest_other);

	// A PUT without the field (or with null) applies its mode to every prompt again; one whose
	// field is not a string is refused, and changes nothing.
	let reply = put_fault(&server, json!({"mode": "wrong"})).await;
	assert_eq!(reply.json(), json!({"mode": "wrong", "delay_ms": 300}));
	assert_ne!(content(&server.post("/v1/chat/completions", &user(other)).await), honest_other);
	assert_eq!(put_fault(&server, json!({"mode": "honest", "only_prompt": 7})).await.status, 400);
	assert_eq!(server.get("/admin/fault").await.json(), json!({"mode": "wrong", "delay_ms": 300}));
	let reply = put_fault(&server, json!({"mode": "honest", "only_prompt": null})).await;
	assert_eq!(reply.json(), json!({"mode": "honest", "delay_ms": 300}));
	assert_eq!(server.state.only_prompt(), None);
	assert_eq!(content(&server.post("/v1/chat/completions", &user(target)).await), honest_target);
	server.stop().await;
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	let body = chat("ledgers", 5, 0.0, 0).to_string();
	let one = format!(
		"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
		body.len()
	);
	let last = "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	let mut stream = TcpStream::connect(server.addr).await.unwrap();
	stream.write_all(format!("{one}{one}{last}").as_bytes()).await.unwrap();
	let mut bytes = Vec::new();
	tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut bytes))
		.await
		.unwrap()
		.unwrap();
	let text = String::from_utf8(bytes).unwrap();
	assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
	server.stop().await;
}

/// The real binary: the `listening on` line, a request, and a graceful exit on SIGTERM.
#[cfg(unix)]
#[tokio::test]
async fn binary_announces_its_address_and_exits_on_sigterm() {
	use std::{
		io::{BufRead, BufReader},
		process::{Command, Stdio},
	};
	let mut child = Command::new(env!("CARGO_BIN_EXE_agentchain-inference-server"))
		.args(["--listen", "127.0.0.1:0", "--model", "ngram-en", "--api-key", "k"])
		.env_remove("AGENTCHAIN_INFERENCE_SERVER_API_KEY")
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.unwrap();
	let mut line = String::new();
	BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
	let addr = line
		.strip_suffix('\n')
		.and_then(|l| l.strip_prefix("listening on http://"))
		.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
	let addr: SocketAddr = addr.parse().unwrap();
	assert_eq!(addr.ip().to_string(), "127.0.0.1");
	assert_ne!(addr.port(), 0);

	let mut stream = TcpStream::connect(addr).await.unwrap();
	stream
		.write_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n")
		.await
		.unwrap();
	let mut bytes = Vec::new();
	stream.read_to_end(&mut bytes).await.unwrap();
	assert_eq!(Reply::parse(bytes).status, 200);

	let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
	assert!(status.success());
	let deadline = Instant::now() + TIMEOUT;
	let exit = loop {
		if let Some(exit) = child.try_wait().unwrap() {
			break exit;
		}
		assert!(Instant::now() < deadline, "no exit after SIGTERM");
		tokio::time::sleep(Duration::from_millis(50)).await;
	};
	assert!(exit.success(), "{exit:?}");
	let mut stderr = String::new();
	std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
	assert!(stderr.contains("GET /v1/models 200 fault=honest"), "{stderr}");
	assert!(stderr.contains("SIGTERM"), "{stderr}");
	assert!(!stderr.contains("Bearer k"), "{stderr}");
}

/// Answers of the shipped corpus that the chain's end-to-end tests may hash (also quoted in the
/// README). A change here changes those hashes: change the corpus or the model deliberately.
#[tokio::test]
async fn golden_answers_of_the_shipped_corpus() {
	let server = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	let reply = server
		.post(
			"/v1/chat/completions",
			&json!({
				"model": "ngram-en",
				"messages": [{"role": "user", "content": "Tell me about the river"}],
				"max_tokens": 16, "temperature": 0, "seed": 0,
			}),
		)
		.await;
	assert_eq!(reply.json()["id"], "chatcmpl-38e0c621b2a4dc96");
	assert_eq!(content(&reply), "is slow, or silent, and the baker buys less flour, and the baker");
	let reply = server
		.post(
			"/v1/completions",
			&json!({
				"model": "ngram-en", "prompt": "The market", "max_tokens": 16, "temperature": 0.8, "seed": 42,
			}),
		)
		.await;
	let json = reply.json();
	assert_eq!(json["id"], "cmpl-c92242af1846ef1e");
	assert_eq!(
		json["choices"][0]["text"],
		"with a cart of apples has made the son an agent of the sea. if"
	);
	server.stop().await;
}

#[tokio::test]
async fn documents_are_stored_and_served_only_with_the_store_on() {
	let off = TestServer::start(ServerConfig::default(), FaultMode::Honest).await;
	assert_eq!(off.send("PUT", "/documents/a.json", &[], r#"["x"]"#).await.status, 404);
	off.stop().await;

	let config = ServerConfig { documents: true, api_key: Some("k".into()), ..Default::default() };
	let server = TestServer::start(config, FaultMode::Honest).await;
	assert_eq!(server.get("/documents/outputs-1.json").await.status, 404);
	let document = r#"["le bonjour","merci"]"#;
	// No API key needed: requesters, executors and jurors read and write documents.
	let put = server.send("PUT", "/documents/outputs-1.json", &[], document).await;
	assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
	let got = server.get("/documents/outputs-1.json").await;
	assert_eq!(got.status, 200);
	assert_eq!(got.header("content-type"), Some("application/json"));
	assert_eq!(got.body, document.as_bytes());
	// Written once: the same bytes again are fine, other bytes are refused.
	assert_eq!(server.send("PUT", "/documents/outputs-1.json", &[], document).await.status, 200);
	let other = server.send("PUT", "/documents/outputs-1.json", &[], "[]").await;
	assert_eq!((other.status, other.error_code().as_str()), (409, "document_exists"));
	assert_eq!(server.get("/documents/outputs-1.json").await.body, document.as_bytes());
	// Names are plain file names.
	for name in ["", ".hidden", "a%2Fb", "a b"] {
		let reply = server.send("PUT", &format!("/documents/{name}"), &[], "[]").await;
		assert_eq!(reply.status, 400, "{name:?}");
	}
	assert_eq!(server.send("DELETE", "/documents/outputs-1.json", &[], "").await.status, 405);
	// Declared larger than the largest document: refused before the body is read, the stored
	// one untouched.
	let head = format!(
		"PUT /documents/outputs-1.json HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
		server.addr,
		agentchain_inference_server::MAX_DOCUMENT_BYTES + 1
	);
	assert_eq!(server.raw(head.as_bytes()).await.status, 413);
	assert_eq!(server.get("/documents/outputs-1.json").await.body, document.as_bytes());
	server.stop().await;
}
