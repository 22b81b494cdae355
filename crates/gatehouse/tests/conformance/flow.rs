//! The relying party the modules drive: authorization requests in each response type and mode,
//! the callback checks every OIDF module makes, the token exchange and the standard ID token
//! checks (`PerformStandardIdTokenChecks`), written from the OIDF suite's descriptions.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_core::provider::Clock as _;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::helpers::{
    Auth, Authz, Browser, NONCE, PASSWORD, REDIRECT_URI, Reply, STATE, Server, TestApp,
    http_client, spawn_app,
};

/// The response type and mode a plan runs its modules with.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    pub response_type: &'static str,
    pub response_mode: Option<&'static str>,
}

impl Variant {
    pub const CODE: Variant = Variant {
        response_type: "code",
        response_mode: None,
    };

    fn has(&self, part: &str) -> bool {
        self.response_type.split(' ').any(|p| p == part)
    }

    pub fn has_code(&self) -> bool {
        self.has("code")
    }

    /// Implicit or hybrid: an ID token or access token in the front channel.
    pub fn front_channel_tokens(&self) -> bool {
        self.has("id_token") || self.has("token")
    }

    /// Where the authorization response is expected: the query for `code`, else the fragment,
    /// or a form post when asked for.
    pub fn delivery(&self) -> Delivery {
        match self.response_mode {
            Some("form_post") => Delivery::FormPost,
            Some("fragment") => Delivery::Fragment,
            Some("query") => Delivery::Query,
            _ if self.front_channel_tokens() => Delivery::Fragment,
            _ => Delivery::Query,
        }
    }
}

/// What a module gets: the backend, the plan's variant, and the plan's shared Gatehouse
/// (`None` for the modules that need one of their own: they move the clock far, rotate keys,
/// or trip limits).
#[derive(Clone)]
pub struct Ctx {
    pub backend: Backend,
    pub variant: Variant,
    pub shared: Option<Arc<TestApp>>,
}

impl Ctx {
    /// The seeded web client on a Gatehouse (the plan's, or a fresh one), driven on the
    /// `default` server.
    pub async fn rp(&self) -> Result<Rp> {
        let app = match &self.shared {
            Some(app) => app.clone(),
            None => Arc::new(spawn_app(self.backend).await?),
        };
        self.rp_on(app).await
    }

    /// The seeded web client on a Gatehouse of its own that may fetch client documents
    /// (`request_uri`, `sector_identifier_uri`, `jwks_uri`) from loopback, where the RP's
    /// [`crate::helpers::DocumentServer`] are served (the development setting; the OIDF suite serves them on its
    /// public https origin).
    pub async fn rp_fetching(&self) -> Result<Rp> {
        self.rp_with(|s| s.dev_jwks_uri_allow_loopback = true).await
    }

    /// The seeded web client on a Gatehouse of its own, configured by `configure`.
    pub async fn rp_with(
        &self,
        configure: impl FnOnce(&mut gatehouse::config::Settings),
    ) -> Result<Rp> {
        let app = Arc::new(crate::helpers::spawn_app_with(self.backend, configure).await?);
        self.rp_on(app).await
    }

    async fn rp_on(&self, app: Arc<TestApp>) -> Result<Rp> {
        // The certification profile expects RFC 9207 (`iss` on error responses too), a server
        // setting that is off by default (as in Okta).
        gatehouse_core::services::auth_servers::set_authorization_response_iss(
            &app.provider,
            "default",
            true,
        )
        .await?;
        let client_id = app.client_id().to_owned();
        let secret = app.client_secret().to_owned();
        let rp = Rp {
            app,
            server: Server::Default,
            variant: self.variant,
            client_id,
            secret,
        };
        rp.allow_variant().await?;
        Ok(rp)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Query,
    Fragment,
    FormPost,
}

/// An authorization response as the client's redirect URI would receive it.
#[derive(Clone, Debug)]
pub struct AuthResponse {
    pub delivery: Delivery,
    /// The redirect URI it went to, without the response parameters.
    pub target: String,
    /// Parameters left in the URL query when the response was posted (must be none).
    pub query_leftovers: Vec<String>,
    pub params: HashMap<String, String>,
}

impl AuthResponse {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub fn error(&self) -> Option<&str> {
        self.get("error")
    }

    /// A positive response to the registered redirect URI, in the expected mode, with state
    /// and the RFC 9207 `iss` echoed, and no error.
    pub fn expect_success(&self, rp: &Rp) -> Result<()> {
        self.check_common(rp)?;
        ensure!(self.error().is_none(), "error response: {:?}", self.params);
        if rp.variant.has_code() {
            let code = self.get("code").context("no code")?;
            check_entropy("code", code)?;
        }
        Ok(())
    }

    /// An error response (not a page) with one of `codes`.
    pub fn expect_error(&self, rp: &Rp, codes: &[&str]) -> Result<()> {
        self.check_common(rp)?;
        let error = self.error().context("not an error response")?;
        ensure!(
            codes.contains(&error),
            "error {error}, expected one of {codes:?}"
        );
        ensure!(
            self.get("code").is_none(),
            "an error response carries a code"
        );
        if let Some(d) = self.get("error_description") {
            // RFC 6749 §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E.
            ensure!(
                d.chars()
                    .all(|c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')),
                "error_description has characters outside RFC 6749's set: {d:?}"
            );
        }
        Ok(())
    }

    fn check_common(&self, rp: &Rp) -> Result<()> {
        ensure!(self.target == REDIRECT_URI, "went to {}", self.target);
        let expected = rp.variant.delivery();
        // Errors before the response type is known may come in the query; accept that only
        // for errors.
        ensure!(
            self.delivery == expected
                || (self.error().is_some() && self.delivery == Delivery::Query),
            "delivered by {:?}, expected {expected:?}",
            self.delivery
        );
        if self.delivery == Delivery::FormPost {
            ensure!(
                self.query_leftovers.is_empty(),
                "form_post response also put {:?} in the URL",
                self.query_leftovers
            );
        }
        ensure!(
            self.get("state") == Some(STATE),
            "state not echoed: {:?}",
            self.params
        );
        ensure!(
            self.get("iss") == Some(rp.issuer().as_str()),
            "iss (RFC 9207) missing or wrong: {:?}",
            self.params
        );
        Ok(())
    }
}

/// At least ~96 bits, as the OIDF suite measures codes and tokens.
pub fn check_entropy(what: &str, value: &str) -> Result<()> {
    let distinct: std::collections::HashSet<char> = value.chars().collect();
    let alphabet = distinct.len().max(2) as f64;
    let bits = value.chars().count() as f64 * alphabet.log2().min(6.0);
    ensure!(bits >= 96.0, "{what} has only ~{bits:.0} bits: {value}");
    Ok(())
}

/// What a flow ends with.
#[derive(Clone, Debug)]
pub struct Flow {
    pub id_token: String,
    pub claims: Value,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub token_response: Option<Value>,
}

pub struct Rp {
    pub app: Arc<TestApp>,
    pub server: Server,
    pub variant: Variant,
    pub client_id: String,
    pub secret: String,
}

impl Rp {
    pub fn issuer(&self) -> String {
        self.app.issuer(self.server)
    }

    pub fn endpoint(&self, name: &str) -> String {
        self.app.endpoint(self.server, name)
    }

    /// Lets the seeded client use the plan's response type (implicit and hybrid clients are
    /// registered for them, as the OIDF suite's static clients are).
    async fn allow_variant(&self) -> Result<()> {
        if !self.variant.front_channel_tokens() {
            return Ok(());
        }
        let mut app = self
            .app
            .provider
            .store
            .find_app_by_client_id(&self.client_id)
            .await?
            .context("seeded app")?;
        // Okta's app model allows each part of a response type on its own (`code`, `id_token`, `token`).
        for part in self.variant.response_type.split_whitespace() {
            if !app.settings.response_types.iter().any(|t| t == part) {
                app.settings.response_types.push(part.to_owned());
            }
        }
        if !app.settings.grant_types.iter().any(|g| g == "implicit") {
            app.settings.grant_types.push("implicit".into());
        }
        self.app.provider.store.update_app(&app).await?;
        Ok(())
    }

    /// The authorize request in this plan's variant.
    pub fn authz(&self) -> Authz {
        let mut a = Authz::new(&self.app.base, self.server, &self.client_id)
            .set("response_type", self.variant.response_type);
        if let Some(mode) = self.variant.response_mode {
            a = a.set("response_mode", mode);
        }
        a
    }

    /// Opens the request in a fresh browser, signs alice in, and reads the response.
    pub async fn sign_in(&self, authz: &Authz) -> Result<(Browser, AuthResponse)> {
        let browser = Browser::new()?;
        let resp = self.sign_in_with(&browser, authz).await?;
        Ok((browser, resp))
    }

    /// Signs in with this browser: the request must show the sign-in form.
    pub async fn sign_in_with(&self, browser: &Browser, authz: &Authz) -> Result<AuthResponse> {
        let form = browser.open_login(&authz.url()).await?;
        let reply = browser
            .submit(&form, &self.app.alice.login, PASSWORD)
            .await?;
        read_response(&reply)?.with_context(|| format!("sign-in gave no response: {reply:?}"))
    }

    /// A request that must be answered without any UI (SSO, prompt=none, errors).
    pub async fn no_ui(&self, browser: &Browser, authz: &Authz) -> Result<AuthResponse> {
        let reply = browser.get(&authz.url()).await?;
        ensure!(
            reply.login_form().is_none(),
            "the sign-in page was shown: {reply:?}"
        );
        read_response(&reply)?.with_context(|| format!("no authorization response: {reply:?}"))
    }

    /// Whether this request shows the sign-in form (re-authentication).
    pub async fn shows_login(&self, browser: &Browser, authz: &Authz) -> Result<bool> {
        let reply = browser.get(&authz.url()).await?;
        Ok(reply.status == StatusCode::OK && reply.login_form().is_some())
    }

    /// The authorization-code grant with `client_secret_basic` (or `_post`).
    pub async fn exchange(&self, code: &str, post: bool) -> Result<Reply> {
        let auth = if post {
            Auth::Post(&self.client_id, &self.secret)
        } else {
            Auth::Basic(&self.client_id, &self.secret)
        };
        self.app.exchange(self.server, code, &[], auth).await
    }

    /// The whole flow: sign in, check the callback, get the tokens, check the ID token(s).
    pub async fn run(&self, authz: &Authz) -> Result<(Browser, Flow)> {
        let (browser, resp) = self.sign_in(authz).await?;
        resp.expect_success(self)?;
        let flow = self.finish(&resp, false, Some(NONCE)).await?;
        Ok((browser, flow))
    }

    /// From a successful response to tokens: the front-channel ones checked, then the code
    /// redeemed (if any) and the token endpoint's ID token checked.
    pub async fn finish(
        &self,
        resp: &AuthResponse,
        post: bool,
        nonce: Option<&str>,
    ) -> Result<Flow> {
        let code = resp.get("code").map(str::to_owned);
        let mut front_claims = None;
        let front_access = resp.get("access_token").map(str::to_owned);
        if self.variant.has("token") {
            let at = front_access
                .as_deref()
                .context("no access_token in the response")?;
            check_entropy("access_token", at)?;
            ensure!(
                resp.get("token_type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
                "token_type: {:?}",
                resp.params
            );
        }
        if self.variant.has("id_token") {
            let idt = resp
                .get("id_token")
                .context("no id_token in the response")?;
            let claims = self
                .check_id_token(idt, nonce, front_access.as_deref(), code.as_deref())
                .await?;
            front_claims = Some((idt.to_owned(), claims));
        }
        let Some(code) = code else {
            let (id_token, claims) = front_claims.context("no ID token")?;
            return Ok(Flow {
                id_token,
                claims,
                access_token: front_access,
                refresh_token: None,
                token_response: None,
            });
        };
        let reply = self.exchange(&code, post).await?;
        let body = check_token_response(&reply)?;
        let access = body["access_token"].as_str().map(str::to_owned);
        let id_token = body["id_token"]
            .as_str()
            .context("no id_token from the token endpoint")?
            .to_owned();
        let claims = self
            .check_id_token(&id_token, nonce, access.as_deref(), None)
            .await?;
        if let Some((_, front)) = &front_claims {
            ensure!(
                front["sub"] == claims["sub"],
                "the two ID tokens name different subjects"
            );
        }
        Ok(Flow {
            id_token,
            claims,
            access_token: access,
            refresh_token: body["refresh_token"].as_str().map(str::to_owned),
            token_response: Some(body),
        })
    }

    /// `PerformStandardIdTokenChecks`: signature and kid, iss, aud/azp, exp, iat, nbf,
    /// auth_time, nonce, sub, at_hash and c_hash.
    pub async fn check_id_token(
        &self,
        token: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
        code: Option<&str>,
    ) -> Result<Value> {
        let (header, _) = crate::helpers::jwt_parts(token)?;
        ensure!(
            header["alg"] == "RS256",
            "default alg must be RS256: {header}"
        );
        let claims = self
            .app
            .verify_jwt(self.server, token, &self.client_id)
            .await
            .context("ID token signature, kid, iss or aud")?;
        let now = self.app.clock.now();
        let num = |k: &str| claims[k].as_i64();
        ensure!(claims["iss"] == self.issuer().as_str(), "iss: {claims}");
        let aud_ok = match &claims["aud"] {
            Value::String(a) => *a == self.client_id,
            Value::Array(a) => a.iter().any(|v| *v == self.client_id.as_str()),
            _ => false,
        };
        ensure!(aud_ok, "aud: {claims}");
        if let Some(azp) = claims.get("azp") {
            ensure!(*azp == self.client_id.as_str(), "azp: {claims}");
        }
        let exp = num("exp").context("exp")?;
        ensure!(
            exp > now - 300 && exp < now + 50 * 365 * 86400,
            "exp: {claims}"
        );
        let iat = num("iat").context("iat")?;
        ensure!(iat <= now + 300, "iat in the future: {claims}");
        if let Some(nbf) = claims.get("nbf") {
            ensure!(
                nbf.as_i64().is_some_and(|n| n <= now + 300),
                "nbf: {claims}"
            );
        }
        if let Some(at) = claims.get("auth_time") {
            let at = at.as_i64().context("auth_time is not a number")?;
            ensure!(
                at <= now + 300 && at > now - 365 * 86400,
                "auth_time: {claims}"
            );
        }
        ensure!(
            claims["sub"].as_str().is_some_and(|s| !s.is_empty()),
            "sub: {claims}"
        );
        if let Some(u) = claims.get("updated_at") {
            ensure!(u.is_number(), "updated_at must be a number: {claims}");
        }
        match nonce {
            Some(n) => ensure!(claims["nonce"] == n, "nonce: {claims}"),
            None => ensure!(claims.get("nonce").is_none(), "unrequested nonce: {claims}"),
        }
        for (claim, value) in [("at_hash", access_token), ("c_hash", code)] {
            match (claims.get(claim), value) {
                (Some(h), Some(v)) => ensure!(*h == half_hash(v).as_str(), "{claim}: {claims}"),
                (None, Some(_)) if self.variant.front_channel_tokens() => {
                    // Required in the front channel (OIDC Core §3.2.2.10, §3.3.2.11), except
                    // at_hash for `code id_token`.
                    let optional = claim == "at_hash" && !self.variant.has("token");
                    ensure!(optional, "{claim} missing: {claims}");
                }
                _ => {}
            }
        }
        Ok(claims)
    }

    pub async fn userinfo_get(&self, access_token: &str) -> Result<Reply> {
        self.app.userinfo(self.server, access_token).await
    }

    pub async fn userinfo_post_header(&self, access_token: &str) -> Result<Reply> {
        Reply::read(
            http_client()?
                .post(self.endpoint("userinfo"))
                .bearer_auth(access_token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("")
                .send()
                .await?,
        )
        .await
    }

    pub async fn userinfo_post_body(&self, access_token: &str) -> Result<Reply> {
        Reply::read(
            http_client()?
                .post(self.endpoint("userinfo"))
                .form(&[("access_token", access_token)])
                .send()
                .await?,
        )
        .await
    }

    pub async fn discovery(&self) -> Result<Value> {
        let reply = self
            .app
            .get(&format!(
                "{}/.well-known/openid-configuration",
                self.issuer()
            ))
            .await?;
        ensure!(reply.status == StatusCode::OK, "discovery: {reply:?}");
        reply.json()
    }
}

/// A 200 token response with `Cache-Control: no-store` and a Bearer token type.
pub fn check_token_response(reply: &Reply) -> Result<Value> {
    ensure!(reply.status == StatusCode::OK, "token endpoint: {reply:?}");
    ensure!(
        reply
            .header("cache-control")
            .is_some_and(|c| c.contains("no-store")),
        "token response without Cache-Control: no-store: {reply:?}"
    );
    let body = reply.json()?;
    ensure!(
        body["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "token_type: {body}"
    );
    Ok(body)
}

/// The left half of the SHA-256 of `value`, base64url (at_hash, c_hash for RS256).
pub fn half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Reads an authorization response from a reply: a redirect (query or fragment) or an
/// auto-submitting form post. `None` when the reply is neither (a page of ours).
pub fn read_response(reply: &Reply) -> Result<Option<AuthResponse>> {
    if reply.status.is_redirection() {
        let location = reply
            .header("location")
            .context("a redirect without Location")?;
        let url = Url::parse(location).with_context(|| format!("Location {location}"))?;
        let mut target = url.clone();
        target.set_query(None);
        target.set_fragment(None);
        let (delivery, params) = match url.fragment().filter(|f| !f.is_empty()) {
            Some(f) => (
                Delivery::Fragment,
                url::form_urlencoded::parse(f.as_bytes()),
            ),
            None => (Delivery::Query, url.query_pairs()),
        };
        let params = params.into_owned().collect();
        return Ok(Some(AuthResponse {
            delivery,
            target: target.to_string(),
            query_leftovers: vec![],
            params,
        }));
    }
    if reply.status == StatusCode::OK && reply.body.contains("id=\"response\"") {
        let form_start = reply
            .body
            .find("<form method=\"post\"")
            .context("form_post page without a form")?;
        let action = attr(&reply.body[form_start..], "action").context("no action")?;
        let url = Url::parse(&action)?;
        let query_leftovers = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let mut target = url.clone();
        target.set_query(None);
        let mut params = HashMap::new();
        let mut rest = &reply.body[form_start..];
        while let Some(at) = rest.find("<input") {
            rest = &rest[at..];
            let end = rest.find('>').unwrap_or(rest.len());
            let tag = &rest[..end];
            if let (Some(name), Some(value)) = (attr(tag, "name"), attr(tag, "value")) {
                params.insert(name, value);
            }
            rest = &rest[end..];
        }
        return Ok(Some(AuthResponse {
            delivery: Delivery::FormPost,
            target: target.to_string(),
            query_leftovers,
            params,
        }));
    }
    Ok(None)
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let at = tag.find(&marker)? + marker.len();
    let len = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + len]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// An HTML error page: a 4xx, no redirect, no sign-in form (the "screenshot" modules).
pub fn expect_error_page(reply: &Reply) -> Result<()> {
    ensure!(
        reply.status.is_client_error(),
        "expected an error page: {reply:?}"
    );
    ensure!(
        reply.header("location").is_none(),
        "must not redirect: {reply:?}"
    );
    ensure!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "not an HTML page: {reply:?}"
    );
    ensure!(reply.login_form().is_none(), "a sign-in form: {reply:?}");
    Ok(())
}

/// Fails unless `reply` is an error page or, when `redirect_ok`, an error response.
pub fn error_page_or_response(rp: &Rp, reply: &Reply, codes: &[&str]) -> Result<()> {
    if reply.status.is_redirection() {
        let resp = read_response(reply)?.context("redirect")?;
        return resp.expect_error(rp, codes);
    }
    if let Some(resp) = read_response(reply)? {
        return resp.expect_error(rp, codes);
    }
    expect_error_page(reply)
}
