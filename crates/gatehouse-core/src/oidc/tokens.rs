//! Minting access, ID and refresh tokens with Okta's claim sets.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256, Sha512};

use crate::audit::{self, TokenRequestLog};
use crate::authz::claims::add_custom_claims;
use crate::authz::model::ClaimType;
use crate::authz::policy::Decision;
use crate::crypto::{okta_id, random_token, sha256_b64url};
use crate::domain::{
    AccessTokenRecord, App, AuthServerKind, Grant, RefreshToken, SigningAlg, User,
};
use crate::oauth2::{OAuthError, scope};
use crate::oidc::claims;
use crate::provider::{Audience, Provider, ServerContext};
use crate::services::apps;
use crate::store::{Claim, IssuedTokens, StoreError, is_lost_claim};

/// The token endpoint's success body. Never carries `state` (okta-auth-js rejects it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenResponse {
    pub token_type: &'static str,
    pub expires_in: i64,
    pub access_token: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// `invalid_grant` when a new grant cannot be stored because it was revoked first (a replayed
/// authorization code racing its first redemption). The code's own message, as Okta answers.
pub const GRANT_REVOKED: &str = "The authorization code is invalid or has expired.";

/// What to do about the refresh token in this response.
pub enum RefreshPlan {
    None,
    /// Mint a new refresh token expiring at the given time.
    Issue {
        expires_at: i64,
    },
    /// Hand back the token the client presented (static refresh tokens).
    Reuse {
        token: String,
        /// Its idle window restarted: its hash and new expiry, stored with the new tokens.
        extend: Option<(String, i64)>,
    },
}

pub struct Issue<'a> {
    pub server: &'a ServerContext,
    pub app: &'a App,
    pub user: Option<&'a User>,
    pub grant: &'a Grant,
    pub nonce: Option<&'a str>,
    pub refresh: RefreshPlan,
    /// The grant is new and not stored yet: store it with the token records, in one
    /// transaction (the code exchange; a `client_credentials` grant, having no user, is not
    /// stored at all). A grant revoked before it was
    /// stored fails the request with `invalid_grant` ([`GRANT_REVOKED`]).
    pub store_grant: bool,
    /// On custom servers, the access policy rule that allowed the request: lifetimes and
    /// custom claims.
    pub decision: Option<&'a Decision>,
    /// The token endpoint's request, for the System Log events stored with the tokens.
    pub log: Option<&'a TokenRequestLog<'a>>,
    /// What the response spends (the code, a rotated refresh token), in the same transaction
    /// as its records: see [`issue_claiming`].
    pub claim: Option<Claim<'a>>,
    /// The ID token's `sid`: the sign-in session the tokens come from, when known (the code
    /// exchange, implicit and hybrid; see `services::backchannel::sid_for`).
    pub sid: Option<String>,
}

/// `at_hash`: base64url of the left half of the hash of the access token, the hash being the one
/// of the ID token's `alg`: SHA-256 for RS256 and ES256, SHA-512 for EdDSA with Ed25519 (as
/// OpenID Connect Core errata 2 and the `openidconnect` and `oidc-provider` libraries do).
pub fn at_hash(access_token: &str, alg: SigningAlg) -> String {
    match alg {
        SigningAlg::Rs256 | SigningAlg::Es256 => {
            URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
        }
        SigningAlg::EdDsa => URL_SAFE_NO_PAD.encode(&Sha512::digest(access_token.as_bytes())[..32]),
    }
}

/// `c_hash` (OIDC Core §3.3.2.11): the same left-half hash as [`at_hash`], of the code.
pub fn c_hash(code: &str, alg: SigningAlg) -> String {
    at_hash(code, alg)
}

/// The access token's claims: Okta's set, in Okta's order, then the server's `RESOURCE`
/// claims. Serialized from borrowed fields (every token request mints one; a map of owned
/// keys and values cost a dozen allocations). Custom claims never collide with these: their
/// names are all reserved ([`crate::authz::claims::RESERVED_CLAIMS`]).
#[derive(Debug, Serialize)]
pub(crate) struct AccessClaims<'a> {
    ver: u8,
    jti: &'a str,
    iss: &'a str,
    aud: Audience<'a>,
    iat: i64,
    exp: i64,
    cid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    scp: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    sub: &'a str,
    #[serde(flatten)]
    custom: Map<String, Value>,
}

/// The access token's claims (see [`AccessClaims`]).
pub(crate) fn access_token_claims<'a>(
    req: &'a Issue<'_>,
    jti: &'a str,
    now: i64,
    ttl: i64,
) -> AccessClaims<'a> {
    let scopes = &req.grant.scopes;
    let mut custom = Map::new();
    if let Some(d) = req.decision {
        add_custom_claims(
            &d.config,
            ClaimType::Resource,
            req.user,
            &d.groups,
            scopes,
            &mut custom,
        );
    }
    AccessClaims {
        ver: 1,
        jti,
        iss: &req.server.issuer,
        aud: req.server.audience(),
        iat: now,
        exp: now + ttl,
        cid: &req.app.client_id,
        uid: req.user.map(|u| u.id.as_str()),
        scp: scopes,
        auth_time: req.grant.auth_time,
        sub: req
            .user
            .map_or(req.app.client_id.as_str(), |u| u.login.as_str()),
        custom,
    }
}

/// The ID token's claims without `at_hash` (Okta's set, then the server's `IDENTITY` claims);
/// `None` without a user or the `openid` scope.
pub(crate) async fn id_token_claims(
    provider: &Provider,
    req: &Issue<'_>,
    now: i64,
) -> Result<Option<Map<String, Value>>, OAuthError> {
    let scopes = &req.grant.scopes;
    let Some(user) = req.user.filter(|_| scope::has(scopes, scope::OPENID)) else {
        return Ok(None);
    };
    let mut id = Map::new();
    id.insert("sub".into(), json!(user.id));
    id.insert("ver".into(), json!(1));
    id.insert("iss".into(), json!(req.server.issuer));
    id.insert("aud".into(), json!(req.app.client_id));
    id.insert("iat".into(), json!(now));
    id.insert("exp".into(), json!(now + provider.lifetimes.id_token));
    id.insert("jti".into(), json!(format!("ID.{}", random_token(32))));
    id.insert("amr".into(), json!(req.grant.amr));
    if let Some(acr) = &req.grant.acr {
        id.insert("acr".into(), json!(acr));
    }
    id.insert("idp".into(), json!(org_id(provider).await?));
    if let Some(nonce) = req.nonce {
        id.insert("nonce".into(), json!(nonce));
    }
    if let Some(auth_time) = req.grant.auth_time {
        id.insert("auth_time".into(), json!(auth_time));
    }
    // Only apps that take back-channel logouts need the session id; the others keep Okta's
    // claim set.
    if let Some(sid) = req
        .sid
        .as_ref()
        .filter(|_| req.app.settings.backchannel_logout_uri.is_some())
    {
        id.insert("sid".into(), json!(sid));
    }
    claims::id_token_profile_claims(user, scopes, &mut id);
    if let Some(entra) = &req.server.entra {
        crate::oidc::entra_dialect::add_id_token_claims(entra, user, &mut id);
    }
    add_app_groups_claim(provider, req, user, &mut id).await?;
    if let Some(d) = req.decision {
        add_custom_claims(
            &d.config,
            ClaimType::Identity,
            Some(user),
            &d.groups,
            scopes,
            &mut id,
        );
    }
    Ok(Some(id))
}

/// The app's Sign On groups claim, in ID tokens of the org server granted the `groups` scope
/// (custom servers have their own claims). Groups are read only for apps that have one.
async fn add_app_groups_claim(
    provider: &Provider,
    req: &Issue<'_>,
    user: &User,
    id: &mut Map<String, Value>,
) -> Result<(), OAuthError> {
    let Some(claim) = &req.app.settings.groups_claim else {
        return Ok(());
    };
    if req.server.server.kind != AuthServerKind::Org || !scope::has(&req.grant.scopes, "groups") {
        return Ok(());
    }
    let groups = provider.store.list_user_groups(&user.id).await?;
    id.insert(
        claim.name.clone(),
        json!(apps::groups_claim_value(claim, &groups)),
    );
    Ok(())
}

/// The access-token lifetime: the deciding rule's on custom servers.
pub(crate) fn access_ttl(provider: &Provider, req: &Issue<'_>) -> i64 {
    req.decision
        .map_or(provider.lifetimes.access_token, Decision::access_token_ttl)
}

/// Mints and records the tokens of a response that spends nothing ([`Issue::claim`] is
/// ignored).
pub async fn issue(provider: &Provider, req: Issue<'_>) -> Result<TokenResponse, OAuthError> {
    let req = Issue { claim: None, ..req };
    issue_claiming(provider, req).await?.ok_or_else(|| {
        OAuthError::internal(StoreError::Backend(
            "a token response without a claim lost one".into(),
        ))
    })
}

/// Mints the tokens and records them together with [`Issue::claim`], in one transaction.
/// `None` when the claim was lost (the code was redeemed, or the refresh token rotated, by a
/// concurrent request first): nothing was recorded and nothing may be handed out.
pub async fn issue_claiming(
    provider: &Provider,
    req: Issue<'_>,
) -> Result<Option<TokenResponse>, OAuthError> {
    let now = provider.now();
    let auth_server_id = &req.server.server.id;
    let scopes = &req.grant.scopes;
    let access_ttl = access_ttl(provider, &req);

    let jti = crate::crypto::access_token_jti();
    // One key for both tokens, so `at_hash` matches the ID token's algorithm.
    let key = provider.keys.active_key(auth_server_id).await?;
    let access_token = key.sign(&access_token_claims(&req, &jti, now, access_ttl))?;
    // A token without a user (client_credentials) is self-contained: neither it nor its grant
    // is recorded, so issuing one writes only its System Log event. Its signature and `exp`
    // make it live; revoking it records it, revoked (see `introspect::check_access_token_record`).
    let self_contained = req.user.is_none();
    let record = (!self_contained).then(|| AccessTokenRecord {
        jti,
        grant_id: req.grant.id.clone(),
        client_id: req.app.client_id.clone(),
        expires_at: now + access_ttl,
        revoked_at: None,
    });
    let (refresh_token, new_refresh) = match &req.refresh {
        RefreshPlan::None => (None, None),
        RefreshPlan::Reuse { token, .. } => (Some(token.clone()), None),
        &RefreshPlan::Issue { expires_at } => {
            let token = random_token(32);
            let stored = RefreshToken {
                token_hash: sha256_b64url(&token),
                grant_id: req.grant.id.clone(),
                client_id: req.app.client_id.clone(),
                scopes: scopes.clone(),
                created: now,
                expires_at,
                rotated_at: None,
                revoked_at: None,
            };
            (Some(token), Some(stored))
        }
    };
    // The ID token's claims are read before the write: whether there is one is part of what
    // the System Log records.
    let id_claims = id_token_claims(provider, &req, now).await?;
    // Made again in the rare case of a retried write: they are handed to the store by value.
    let events = || match req.log {
        Some(log) => {
            let issued = [
                Some("access_token"),
                id_claims.as_ref().map(|_| "id_token"),
                refresh_token.as_ref().map(|_| "refresh_token"),
            ];
            let issued: Vec<&str> = issued.into_iter().flatten().collect();
            audit::token_grant_records(provider, log, &issued)
        }
        None => Vec::new(),
    };
    // Everything the response hands out, and its System Log events, are recorded in one
    // transaction before it is sent.
    let refresh_expiry = match &req.refresh {
        RefreshPlan::Reuse {
            extend: Some((hash, expires_at)),
            ..
        } => Some((hash.as_str(), *expires_at)),
        _ => None,
    };
    let issued = IssuedTokens {
        grant: req.store_grant.then_some(req.grant),
        access: record.as_ref(),
        refresh: new_refresh.as_ref(),
        refresh_expiry,
        claim: req.claim,
    };
    let recorded = provider.store.record_issued(&issued, events()).await;
    match recorded {
        Ok(()) => {}
        Err(e) if is_lost_claim(&e) => return Ok(None),
        // The grant's id is taken: it was revoked before it could be stored (a replay of the
        // code on a node that redeems codes apart from storing their grant). The winner still
        // answers, with tokens recorded under the revoked grant and then revoked with it:
        // exactly one redemption succeeds, and nothing issued from a replayed code stays usable.
        Err(StoreError::Conflict { .. }) if req.store_grant => {
            let revoked = provider
                .store
                .find_grant(&req.grant.id)
                .await?
                .is_some_and(|g| g.revoked_at.is_some());
            if !revoked {
                return Err(OAuthError::InvalidGrant(GRANT_REVOKED.into()));
            }
            let retried = provider
                .store
                .record_issued(
                    &IssuedTokens {
                        grant: None,
                        ..issued
                    },
                    events(),
                )
                .await;
            match retried {
                Ok(()) => {}
                Err(e) if is_lost_claim(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            provider.store.revoke_grant(&req.grant.id, now).await?;
        }
        Err(e) => return Err(e.into()),
    }

    let id_token = match id_claims {
        Some(mut id) => {
            id.insert("at_hash".into(), json!(at_hash(&access_token, key.alg())));
            Some(key.sign(&Value::Object(id))?)
        }
        None => None,
    };

    Ok(Some(TokenResponse {
        token_type: "Bearer",
        expires_in: access_ttl,
        access_token,
        scope: scope::join(scopes),
        refresh_token,
        id_token,
    }))
}

/// The org's id (`00o…`), the `idp` claim for users of the local directory. Made on first use.
pub async fn org_id(provider: &Provider) -> Result<String, OAuthError> {
    provider
        .org_id
        .get_or_try_init(|| async {
            if let Some(id) = provider.store.get_meta("org_id").await? {
                return Ok(id);
            }
            let id = okta_id("00o");
            provider.store.set_meta("org_id", &id).await?;
            // Another node may have written its own first; the stored one wins.
            Ok(provider.store.get_meta("org_id").await?.unwrap_or(id))
        })
        .await
        .cloned()
}

/// What the authorize endpoint hands out itself (implicit and hybrid responses).
pub struct FrontChannel<'a> {
    pub server: &'a ServerContext,
    pub app: &'a App,
    pub user: &'a User,
    /// The grant the access token belongs to; stored with it, in one transaction.
    pub grant: &'a Grant,
    pub nonce: Option<&'a str>,
    pub access_token: bool,
    pub id_token: bool,
    /// The code issued in the same response (hybrid), for `c_hash`.
    pub code: Option<&'a str>,
    /// On custom servers, the access policy rule that allowed the request.
    pub decision: Option<&'a Decision>,
    /// The ID token's `sid`.
    pub sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FrontChannelTokens {
    pub access_token: Option<String>,
    pub expires_in: i64,
    pub id_token: Option<String>,
}

/// Mints the tokens of an implicit or hybrid authorization response. The access token is
/// recorded like the token endpoint's (revocable, introspectable); the ID token carries
/// `at_hash` and `c_hash` for what travels with it (OIDC Core §3.2.2.10, §3.3.2.11).
pub async fn issue_front_channel(
    provider: &Provider,
    req: FrontChannel<'_>,
) -> Result<FrontChannelTokens, OAuthError> {
    let now = provider.now();
    let issue = Issue {
        server: req.server,
        app: req.app,
        user: Some(req.user),
        grant: req.grant,
        nonce: req.nonce,
        refresh: RefreshPlan::None,
        store_grant: true,
        decision: req.decision,
        log: None,
        claim: None,
        sid: req.sid.clone(),
    };
    let access_ttl = access_ttl(provider, &issue);
    let key = provider.keys.active_key(&req.server.server.id).await?;
    let access_token = if req.access_token {
        let jti = crate::crypto::access_token_jti();
        let at = access_token_claims(&issue, &jti, now, access_ttl);
        let token = key.sign(&at)?;
        let record = AccessTokenRecord {
            jti,
            grant_id: req.grant.id.clone(),
            client_id: req.app.client_id.clone(),
            expires_at: now + access_ttl,
            revoked_at: None,
        };
        provider
            .store
            .create_grant_with_access_token(req.grant, &record)
            .await?;
        Some(token)
    } else {
        None
    };
    let id_token = match id_token_claims(provider, &issue, now).await? {
        Some(mut id) if req.id_token => {
            if let Some(token) = &access_token {
                id.insert("at_hash".into(), json!(at_hash(token, key.alg())));
            }
            if let Some(code) = req.code {
                id.insert("c_hash".into(), json!(c_hash(code, key.alg())));
            }
            Some(key.sign(&Value::Object(id))?)
        }
        _ => None,
    };
    Ok(FrontChannelTokens {
        access_token,
        expires_in: access_ttl,
        id_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_claims_in_oktas_order_then_custom_ones() -> Result<(), serde_json::Error> {
        let scopes = vec!["bench.read".to_owned()];
        let audiences = vec!["api://a".to_owned(), "api://b".to_owned()];
        let mut custom = Map::new();
        custom.insert("tenant".into(), json!("t1"));
        let claims = AccessClaims {
            ver: 1,
            jti: "AT.x",
            iss: "https://id.example/oauth2/default",
            aud: Audience::One("api://default"),
            iat: 10,
            exp: 3610,
            cid: "0oa1",
            uid: None,
            scp: &scopes,
            auth_time: None,
            sub: "0oa1",
            custom,
        };
        assert_eq!(
            serde_json::to_string(&claims)?,
            r#"{"ver":1,"jti":"AT.x","iss":"https://id.example/oauth2/default","aud":"api://default","iat":10,"exp":3610,"cid":"0oa1","scp":["bench.read"],"sub":"0oa1","tenant":"t1"}"#
        );
        let user = AccessClaims {
            aud: Audience::Many(&audiences),
            uid: Some("00u1"),
            auth_time: Some(5),
            sub: "a@example.com",
            custom: Map::new(),
            ..claims
        };
        let v = serde_json::to_value(&user)?;
        assert_eq!(v["aud"], json!(["api://a", "api://b"]));
        assert_eq!(v["uid"], "00u1");
        assert_eq!(v["auth_time"], 5);
        assert!(v.get("tenant").is_none());
        Ok(())
    }
}
