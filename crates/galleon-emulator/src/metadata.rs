//! ARM's cloud metadata (`GET /metadata/endpoints`): how `az cloud register` and galleon learn
//! the emulator's login endpoint, audiences and suffixes (official-clients.md §iii).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::app::Shared;
use crate::arm::json_response;

/// `GET /metadata/endpoints`: the cloud description `az cloud register` and galleon read.
pub async fn metadata_endpoints(State(shared): State<Arc<Shared>>) -> Response {
    let e = &shared.endpoint;
    let mut audiences = shared.world().settings.metadata_audiences.clone();
    if audiences.is_empty() {
        audiences = vec![
            "https://management.core.windows.net/".into(),
            "https://management.azure.com/".into(),
        ];
    }
    let body = json!({
        "name": "GalleonEmulator",
        "portal": e,
        "authentication": {
            "loginEndpoint": format!("{e}/"),
            "audiences": audiences,
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "media": e,
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "resourceManager": format!("{e}/"),
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "gallery": e,
        "sqlManagement": e,
        "vmImageAliasDoc": format!("{e}/vmImageAliasDoc"),
        "batch": "https://batch.core.windows.net/",
        // No `storage` suffix: blobs are served path-style at `{endpoint}/blob/{account}`, and a
        // client that saw `core.windows.net` here would send tokens to the real Azure Storage.
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net"
        }
    });
    json_response(StatusCode::OK, Vec::new(), Some(body))
}
