use serde_json::{Map, Value};

use crate::domain::{AuthServerKind, ClaimValueType, UserStatus};
use crate::oauth2::introspect::{access_token_id, check_access_token_record, verify_access_token};
use crate::oauth2::{OAuthError, scope};
use crate::oidc::claims;
use crate::provider::{Provider, ServerContext};

/// Claims about the token's user, filtered by the token's scopes. Needs `openid`.
pub async fn userinfo(
    provider: &Provider,
    server: &ServerContext,
    access_token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let token = verify_access_token(provider, server, access_token).await?;
    let invalid = || OAuthError::InvalidToken("The access token is invalid.".into());
    let jti = access_token_id(&token)?;
    let uid = token["uid"].as_str().unwrap_or_default();
    let scopes: Vec<String> = token["scp"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // A custom server's own claims go in too (as in its ID tokens).
    let config = match server.server.kind {
        AuthServerKind::Custom => {
            Some(crate::authz::server_config(provider, &server.server.id).await?)
        }
        AuthServerKind::Org => None,
    };
    // Groups are read only for a token that grants them, or for a server whose claims list
    // them: most tokens need none.
    let wants_groups = scope::has(&scopes, "groups")
        || config.as_ref().is_some_and(|c| {
            c.claims
                .iter()
                .any(|c| c.value_type == ClaimValueType::Groups)
        });
    // The signed claims name the user, so the token's record, the user and (if granted) their
    // groups are read at once; the record decides first, as if it had been read alone.
    let store = &provider.store;
    let ((record, user), groups) = tokio::try_join!(
        async {
            match uid {
                "" => Ok((store.find_access_token(jti).await?, None)),
                // One query for both: on PostgreSQL one round trip, on SQLite one hop to a
                // connection's thread.
                uid => store.find_access_token_and_user(jti, uid).await,
            }
        },
        async {
            match uid {
                uid if wants_groups && !uid.is_empty() => store.list_user_groups(uid).await,
                _ => Ok(Vec::new()),
            }
        },
    )?;
    check_access_token_record(provider, &token, record)?;
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::AccessDenied("The access token must provide access to at least one of these scopes - profile, email, address or phone".into()));
    }
    if uid.is_empty() {
        return Err(invalid());
    }
    let user = user
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(invalid)?;
    let mut out = claims::userinfo_claims(&user, &groups, &scopes);
    match &config {
        Some(config) => {
            crate::authz::claims::add_userinfo_claims(config, &user, &groups, &scopes, &mut out);
        }
        None => apply_app_groups_claim(provider, &token, &groups, &scopes, &mut out).await?,
    }
    Ok(out)
}

/// On the org server, the app's groups claim (Sign On tab) filters the `groups` scope's list
/// as it does in the ID token: the claim's name and only the groups that pass its filter.
async fn apply_app_groups_claim(
    provider: &Provider,
    token: &Value,
    groups: &[crate::domain::Group],
    scopes: &[String],
    out: &mut Map<String, Value>,
) -> Result<(), OAuthError> {
    if !scope::has(scopes, "groups") {
        return Ok(());
    }
    let Some(cid) = token["cid"].as_str() else {
        return Ok(());
    };
    let app = provider.store.find_app_by_client_id(cid).await?;
    if let Some(claim) = app.as_ref().and_then(|a| a.settings.groups_claim.as_ref()) {
        out.remove("groups");
        out.insert(
            claim.name.clone(),
            serde_json::json!(crate::services::apps::groups_claim_value(claim, groups)),
        );
    }
    Ok(())
}
