//! Microsoft Entra ID's dialect on top of the org authorization server: the
//! `login.microsoftonline.com` path layout (`/{tenant}/oauth2/...`, `/{tenant}/v2.0/...`), its
//! issuers and the claims Entra's ID tokens carry. The flows are the org server's own; this only
//! resolves the tenant a request names and hands the org server's context over in Entra's
//! dialect ([`super::entra_dialect`]).

use serde_json::Value;

pub use super::entra_dialect::*;
use crate::oauth2::OAuthError;
use crate::oidc::tokens;
use crate::provider::{Provider, ServerContext};

/// The org's tenant id: the configured one (`entra_tenant_id`), else derived from the org id.
pub async fn tenant_id(provider: &Provider) -> Result<String, OAuthError> {
    if let Some(id) = &provider.entra_tenant_id {
        return Ok(id.clone());
    }
    Ok(derived_tenant_id(&tokens::org_id(provider).await?))
}

/// The org server's context for an Entra-style request naming `path_tenant`; an unknown tenant
/// is refused as Entra refuses it (AADSTS90002).
pub async fn server_context(
    provider: &Provider,
    origin: &str,
    path_tenant: &str,
    version: EntraVersion,
) -> Result<ServerContext, OAuthError> {
    let (ctx, entra) = resolve(provider, origin, path_tenant, version).await?;
    Ok(ctx.with_entra(entra))
}

/// The discovery document of `path_tenant` (see [`openid_configuration`]).
pub async fn discovery_document(
    provider: &Provider,
    origin: &str,
    path_tenant: &str,
    version: EntraVersion,
) -> Result<Value, OAuthError> {
    let (ctx, entra) = resolve(provider, origin, path_tenant, version).await?;
    let algs = provider.keys.algorithms(&ctx.server.id).await?;
    Ok(openid_configuration(&entra, &algs))
}

async fn resolve(
    provider: &Provider,
    origin: &str,
    path_tenant: &str,
    version: EntraVersion,
) -> Result<(ServerContext, Entra), OAuthError> {
    let tid = tenant_id(provider).await?;
    let ctx = provider.server_context(origin, None).await?;
    // Entra also takes a tenant's domain name (`contoso.onmicrosoft.com`); Gatehouse's is the
    // host of its issuer, which gives a way to read the tenant id from discovery.
    let host = ctx.issuer.split_once("://").map_or("", |(_, h)| h);
    let known = path_tenant.eq_ignore_ascii_case(&tid)
        || path_tenant.eq_ignore_ascii_case(host)
        || is_alias(path_tenant);
    if !known {
        return Err(OAuthError::InvalidRequest(format!(
            "AADSTS90002: Tenant '{}' not found.",
            path_tenant.chars().take(64).collect::<String>()
        )));
    }
    let entra = Entra {
        version,
        tenant_id: tid,
        path_tenant: path_tenant.to_owned(),
        base: ctx.issuer.clone(),
        resource: None,
    };
    Ok((ctx, entra))
}
