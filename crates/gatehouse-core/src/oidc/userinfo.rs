use serde_json::{Map, Value};

use crate::domain::UserStatus;
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
    // Groups are read only for a token that grants them: most tokens do not.
    let wants_groups = scope::has(&scopes, "groups");
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
    Ok(claims::userinfo_claims(&user, &groups, &scopes))
}
