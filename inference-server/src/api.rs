//! The OpenAI-compatible wire format: requests, responses and errors.
//!
//! Responses are typed structs, so their field order is fixed whatever `serde_json` features
//! other crates of a build enable.

use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `max_tokens` when the request does not say.
pub const DEFAULT_MAX_TOKENS: u64 = 16;
/// Larger `max_tokens` values are lowered to this.
pub const MAX_TOKENS_CAP: u64 = 1024;
/// `temperature` when the request does not say (OpenAI's default).
pub const DEFAULT_TEMPERATURE: f64 = 1.0;
/// The largest accepted `temperature`.
pub const MAX_TEMPERATURE: f64 = 2.0;

/// An error in OpenAI's shape: `{"error":{"message","type","param","code"}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
	/// The HTTP status.
	pub status: StatusCode,
	/// Human-readable explanation.
	pub message: String,
	/// OpenAI's `type`, e.g. `invalid_request_error`.
	pub kind: &'static str,
	/// The offending request parameter, if any.
	pub param: Option<&'static str>,
	/// A machine-readable code, e.g. `model_not_found`.
	pub code: &'static str,
}

impl ApiError {
	/// A client error of type `invalid_request_error`.
	pub fn invalid(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
		Self { status, message: message.into(), kind: "invalid_request_error", param: None, code }
	}

	/// A 400 about one request parameter.
	pub fn bad_param(param: &'static str, message: impl Into<String>) -> Self {
		Self {
			param: Some(param),
			..Self::invalid(StatusCode::BAD_REQUEST, "invalid_value", message)
		}
	}

	/// The JSON body.
	pub fn body(&self) -> String {
		#[derive(Serialize)]
		struct Body<'a> {
			error: Detail<'a>,
		}
		#[derive(Serialize)]
		struct Detail<'a> {
			message: &'a str,
			#[serde(rename = "type")]
			kind: &'a str,
			param: Option<&'a str>,
			code: &'a str,
		}
		let body = Body {
			error: Detail {
				message: &self.message,
				kind: self.kind,
				param: self.param,
				code: self.code,
			},
		};
		serde_json::to_string(&body).expect("serialising plain strings cannot fail")
	}
}

/// Turns a `serde_json` error into a 400: `invalid_json` for syntax, `invalid_request` for
/// missing or mistyped fields.
pub fn parse_error(err: &serde_json::Error) -> ApiError {
	let code = match err.classify() {
		serde_json::error::Category::Data => "invalid_request",
		_ => "invalid_json",
	};
	ApiError::invalid(StatusCode::BAD_REQUEST, code, format!("invalid request body: {err}"))
}

/// Body of `POST /v1/chat/completions`; unknown fields are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct ChatCompletionRequest {
	/// One of the served model names.
	pub model: String,
	/// The conversation; the prompt is the contents joined by `"\n"`.
	pub messages: Vec<ChatMessage>,
	/// Tokens to generate.
	pub max_tokens: Option<u64>,
	/// `0` for greedy decoding, up to `2`.
	pub temperature: Option<f64>,
	/// Seed of the sampler.
	pub seed: Option<u64>,
	/// Streaming is not supported; `true` is rejected.
	pub stream: Option<bool>,
	/// Number of choices; only `1` is supported.
	pub n: Option<u64>,
}

/// One message of a chat.
#[derive(Clone, Debug, Deserialize)]
pub struct ChatMessage {
	/// `system`, `user`, `assistant`, …; not interpreted.
	pub role: String,
	/// A string, an array of `{"type":"text","text":…}` parts, or null.
	#[serde(default)]
	pub content: Option<Value>,
}

impl ChatMessage {
	/// The text of the message.
	pub fn text(&self) -> Result<String, ApiError> {
		match &self.content {
			None | Some(Value::Null) => Ok(String::new()),
			Some(Value::String(text)) => Ok(text.clone()),
			Some(Value::Array(parts)) => {
				let mut texts = Vec::with_capacity(parts.len());
				for part in parts {
					match (part.get("type").and_then(Value::as_str), part.get("text")) {
						(Some("text"), Some(Value::String(text))) => texts.push(text.as_str()),
						_ => {
							return Err(ApiError::bad_param(
								"messages",
								"only text content parts are supported",
							))
						},
					}
				}
				Ok(texts.join("\n"))
			},
			Some(_) => Err(ApiError::bad_param(
				"messages",
				"message content must be a string, an array of text parts or null",
			)),
		}
	}
}

/// Body of `POST /v1/completions`; unknown fields are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct CompletionRequest {
	/// One of the served model names.
	pub model: String,
	/// The text to continue.
	pub prompt: String,
	/// Tokens to generate.
	pub max_tokens: Option<u64>,
	/// `0` for greedy decoding, up to `2`.
	pub temperature: Option<f64>,
	/// Seed of the sampler.
	pub seed: Option<u64>,
	/// Streaming is not supported; `true` is rejected.
	pub stream: Option<bool>,
	/// Number of choices; only `1` is supported.
	pub n: Option<u64>,
}

/// Which completion endpoint a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
	/// `/v1/chat/completions`
	Chat,
	/// `/v1/completions`
	Text,
}

/// A validated completion request, common to both endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerationRequest {
	/// The endpoint it came to.
	pub endpoint: Endpoint,
	/// The requested model name (one of the served names).
	pub model: String,
	/// The prompt text.
	pub prompt: String,
	/// Tokens to generate, capped at [`MAX_TOKENS_CAP`].
	pub max_tokens: usize,
	/// In `0..=2`.
	pub temperature: f64,
	/// Sampler seed.
	pub seed: u64,
}

impl GenerationRequest {
	/// Validates a chat request against the served model names.
	pub fn from_chat(req: ChatCompletionRequest, models: &[String]) -> Result<Self, ApiError> {
		check_common(req.stream, req.n)?;
		if req.messages.is_empty() {
			return Err(ApiError::bad_param("messages", "messages must not be empty"));
		}
		let texts = req.messages.iter().map(ChatMessage::text).collect::<Result<Vec<_>, _>>()?;
		Self::new(
			Endpoint::Chat,
			req.model,
			texts.join("\n"),
			req.max_tokens,
			req.temperature,
			req.seed,
			models,
		)
	}

	/// Validates a text completion request against the served model names.
	pub fn from_text(req: CompletionRequest, models: &[String]) -> Result<Self, ApiError> {
		check_common(req.stream, req.n)?;
		Self::new(
			Endpoint::Text,
			req.model,
			req.prompt,
			req.max_tokens,
			req.temperature,
			req.seed,
			models,
		)
	}

	fn new(
		endpoint: Endpoint,
		model: String,
		prompt: String,
		max_tokens: Option<u64>,
		temperature: Option<f64>,
		seed: Option<u64>,
		models: &[String],
	) -> Result<Self, ApiError> {
		let temperature = temperature.unwrap_or(DEFAULT_TEMPERATURE);
		if !(0.0..=MAX_TEMPERATURE).contains(&temperature) {
			return Err(ApiError::bad_param(
				"temperature",
				format!("temperature must be between 0 and {MAX_TEMPERATURE}, got {temperature}"),
			));
		}
		if !models.contains(&model) {
			return Err(ApiError::invalid(
				StatusCode::NOT_FOUND,
				"model_not_found",
				format!("the model {model:?} does not exist; served models: {}", models.join(", ")),
			));
		}
		let max_tokens = max_tokens.unwrap_or(DEFAULT_MAX_TOKENS).min(MAX_TOKENS_CAP) as usize;
		Ok(Self { endpoint, model, prompt, max_tokens, temperature, seed: seed.unwrap_or(0) })
	}

	/// `chatcmpl-…` or `cmpl-…` followed by 16 hex digits of a hash of the request.
	///
	/// The hash (64-bit FNV-1a) covers the endpoint, model, prompt and decoding parameters, so
	/// the same request always gets the same id.
	pub fn id(&self) -> String {
		let mut hash = Fnv1a64::new();
		let prefix = match self.endpoint {
			Endpoint::Chat => "chatcmpl",
			Endpoint::Text => "cmpl",
		};
		for field in [prefix.as_bytes(), self.model.as_bytes(), self.prompt.as_bytes()] {
			hash.write(&(field.len() as u64).to_le_bytes());
			hash.write(field);
		}
		hash.write(&(self.max_tokens as u64).to_le_bytes());
		hash.write(&self.temperature.to_bits().to_le_bytes());
		hash.write(&self.seed.to_le_bytes());
		format!("{prefix}-{:016x}", hash.finish())
	}
}

fn check_common(stream: Option<bool>, n: Option<u64>) -> Result<(), ApiError> {
	if stream == Some(true) {
		return Err(ApiError::bad_param("stream", "streaming is not supported"));
	}
	if n.is_some_and(|n| n != 1) {
		return Err(ApiError::bad_param("n", "only n = 1 is supported"));
	}
	Ok(())
}

/// 64-bit FNV-1a.
struct Fnv1a64(u64);

impl Fnv1a64 {
	fn new() -> Self {
		Self(0xcbf2_9ce4_8422_2325)
	}

	fn write(&mut self, bytes: &[u8]) {
		for &b in bytes {
			self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
		}
	}

	fn finish(&self) -> u64 {
		self.0
	}
}

/// Token counts of a completion.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Usage {
	/// Tokens in the prompt.
	pub prompt_tokens: usize,
	/// Tokens generated.
	pub completion_tokens: usize,
	/// The sum of both.
	pub total_tokens: usize,
}

/// Response of `POST /v1/chat/completions`.
#[derive(Clone, Debug, Serialize)]
pub struct ChatCompletionResponse {
	/// `chatcmpl-…`
	pub id: String,
	/// Always `chat.completion`.
	pub object: &'static str,
	/// Unix seconds.
	pub created: u64,
	/// The model name.
	pub model: String,
	/// Exactly one choice.
	pub choices: [ChatChoice; 1],
	/// Token counts.
	pub usage: Usage,
}

/// The single choice of a chat completion.
#[derive(Clone, Debug, Serialize)]
pub struct ChatChoice {
	/// Always 0.
	pub index: u32,
	/// The generated message.
	pub message: AssistantMessage,
	/// Always `length`: generation stops at `max_tokens`.
	pub finish_reason: &'static str,
}

/// The generated message of a chat completion.
#[derive(Clone, Debug, Serialize)]
pub struct AssistantMessage {
	/// Always `assistant`.
	pub role: &'static str,
	/// The generated text.
	pub content: String,
}

/// Response of `POST /v1/completions`.
#[derive(Clone, Debug, Serialize)]
pub struct TextCompletionResponse {
	/// `cmpl-…`
	pub id: String,
	/// Always `text_completion`.
	pub object: &'static str,
	/// Unix seconds.
	pub created: u64,
	/// The model name.
	pub model: String,
	/// Exactly one choice.
	pub choices: [TextChoice; 1],
	/// Token counts.
	pub usage: Usage,
}

/// The single choice of a text completion.
#[derive(Clone, Debug, Serialize)]
pub struct TextChoice {
	/// Always 0.
	pub index: u32,
	/// The generated text.
	pub text: String,
	/// Always `length`.
	pub finish_reason: &'static str,
}

/// Response of `GET /v1/models`.
#[derive(Clone, Debug, Serialize)]
pub struct ModelList<'a> {
	/// Always `list`.
	pub object: &'static str,
	/// One entry per served name.
	pub data: Vec<ModelInfo<'a>>,
}

/// One served model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo<'a> {
	/// The model name.
	pub id: &'a str,
	/// Always `model`.
	pub object: &'static str,
	/// Always 0.
	pub created: u64,
	/// Always `agentchain`.
	pub owned_by: &'static str,
}

/// Body of `GET /admin/fault` and `PUT /admin/fault` responses.
#[derive(Clone, Debug, Serialize)]
pub struct FaultBody<'a> {
	/// The fault mode name.
	pub mode: &'static str,
	/// The delay of `slow`, in milliseconds.
	pub delay_ms: u64,
	/// The one prompt the mode applies to, every other being answered honestly; absent when
	/// the mode applies to every request.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub only_prompt: Option<&'a str>,
}

/// Body of `PUT /admin/fault`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultUpdate {
	/// The new fault mode name.
	pub mode: String,
	/// The new delay of `slow`; unchanged when absent.
	pub delay_ms: Option<u64>,
	/// The one prompt the new mode applies to: a completion request whose prompt
	/// ([`GenerationRequest::prompt`]: a text completion's `prompt`, a chat's message contents
	/// joined by `"\n"`) is exactly this text gets the mode, every other an honest answer.
	/// Absent or `null`: the mode applies to every request (a prompt named by an earlier `PUT`
	/// is forgotten).
	pub only_prompt: Option<String>,
}

/// Builds the completion response of `request` with the given text.
pub fn completion_body(
	request: &GenerationRequest,
	model: String,
	text: String,
	usage: Usage,
	created: u64,
) -> String {
	let result = match request.endpoint {
		Endpoint::Chat => serde_json::to_string(&ChatCompletionResponse {
			id: request.id(),
			object: "chat.completion",
			created,
			model,
			choices: [ChatChoice {
				index: 0,
				message: AssistantMessage { role: "assistant", content: text },
				finish_reason: "length",
			}],
			usage,
		}),
		Endpoint::Text => serde_json::to_string(&TextCompletionResponse {
			id: request.id(),
			object: "text_completion",
			created,
			model,
			choices: [TextChoice { index: 0, text, finish_reason: "length" }],
			usage,
		}),
	};
	result.expect("serialising strings and integers cannot fail")
}

#[cfg(test)]
mod tests {
	use super::*;

	fn models() -> Vec<String> {
		vec!["ngram-en".to_owned()]
	}

	fn chat(body: &str) -> Result<GenerationRequest, ApiError> {
		let req: ChatCompletionRequest = serde_json::from_str(body).map_err(|e| parse_error(&e))?;
		GenerationRequest::from_chat(req, &models())
	}

	#[test]
	fn chat_prompt_joins_message_contents_and_applies_defaults() {
		let req = chat(
			r#"{"model":"ngram-en","messages":[{"role":"system","content":"be brief"},
			{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
			{"role":"assistant","content":null}],"top_p":0.5}"#,
		)
		.unwrap();
		assert_eq!(req.prompt, "be brief\na\nb\n");
		assert_eq!((req.max_tokens, req.temperature, req.seed), (16, 1.0, 0));
	}

	#[test]
	fn invalid_requests_are_rejected() {
		let code = |body: &str| chat(body).unwrap_err().code;
		assert_eq!(code("{"), "invalid_json");
		assert_eq!(code(r#"{"model":"ngram-en"}"#), "invalid_request");
		assert_eq!(code(r#"{"model":"ngram-en","messages":[{"content":"x"}]}"#), "invalid_request");
		let m = r#""model":"ngram-en","messages":[{"role":"user","content":"x"}]"#;
		assert_eq!(code(&format!("{{{m},\"temperature\":2.5}}")), "invalid_value");
		assert_eq!(code(&format!("{{{m},\"temperature\":-0.5}}")), "invalid_value");
		assert_eq!(code(&format!("{{{m},\"stream\":true}}")), "invalid_value");
		assert_eq!(code(&format!("{{{m},\"n\":2}}")), "invalid_value");
		assert_eq!(code(&format!("{{{m},\"seed\":-1}}")), "invalid_request");
		assert_eq!(code(r#"{"model":"ngram-en","messages":[]}"#), "invalid_value");
		let image =
			r#"{"model":"ngram-en","messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#;
		assert_eq!(code(image), "invalid_value");
		let unknown = chat(r#"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#);
		let err = unknown.unwrap_err();
		assert_eq!((err.status, err.code), (StatusCode::NOT_FOUND, "model_not_found"));
		assert_eq!(
			serde_json::from_str::<Value>(&err.body()).unwrap()["error"]["type"],
			"invalid_request_error"
		);
	}

	#[test]
	fn max_tokens_is_capped_and_ids_are_deterministic() {
		let m = r#""model":"ngram-en","messages":[{"role":"user","content":"x"}]"#;
		let a = chat(&format!("{{{m},\"max_tokens\":100000,\"temperature\":0}}")).unwrap();
		assert_eq!(a.max_tokens, 1024);
		let b = chat(&format!("{{{m},\"max_tokens\":100000,\"temperature\":0}}")).unwrap();
		assert_eq!(a.id(), b.id());
		assert!(a.id().starts_with("chatcmpl-"));
		assert_eq!(a.id().len(), "chatcmpl-".len() + 16);
		let c =
			chat(&format!("{{{m},\"max_tokens\":100000,\"temperature\":0,\"seed\":1}}")).unwrap();
		assert_ne!(a.id(), c.id());
		let text = GenerationRequest { endpoint: Endpoint::Text, ..a.clone() };
		assert!(text.id().starts_with("cmpl-"));
		assert_ne!(text.id()[5..], a.id()[9..]);
	}
}
