//! `galleon doctor`: checks a cross-tenant image setup made by hand (no manifest) and prints a
//! checklist, or JSON. The checks live in `galleon-doctor`; this module parses the flags into a
//! `Setup`, connects to the cloud and renders the report.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use galleon_azure::{ArmClient, ClientOptions, Cloud};
use galleon_doctor::{AdminProfile, Credential, ImageRef, LiveProbe, SecurityType, Setup};

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

/// Arguments of `galleon doctor`. The checks' flags are required unless a subcommand
/// (`explain`) is given, hence `Option`s that clap fills whenever the checks run.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("credential").required(true).args(
    ["client_secret_env", "client_secret_file", "federated_token_file", "azure_cli"]
)))]
#[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
pub struct DoctorArgs {
    /// Explain an error another tool printed, instead of checking a setup.
    #[command(subcommand)]
    pub command: Option<DoctorCommand>,
    /// The image version id, or the image definition id to use its latest version.
    #[arg(long, value_name = "ID", required = true)]
    pub image: Option<String>,
    /// The tenant you believe owns the image's subscription (GUID or domain). Without it, the
    /// doctor asks ARM which tenant owns it.
    #[arg(long, value_name = "TENANT")]
    pub image_tenant: Option<String>,
    /// The tenant of the VM's subscription. Without it, the doctor asks ARM.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// The VM's subscription.
    #[arg(long, value_name = "ID", required = true)]
    pub subscription: Option<String>,
    /// The VM's resource group.
    #[arg(long, value_name = "NAME", required = true)]
    pub resource_group: Option<String>,
    /// The VM's region, e.g. northeurope.
    #[arg(long, value_name = "REGION", required = true)]
    pub location: Option<String>,
    /// The VM's name (only used in Azure's messages and the emitted manifest).
    #[arg(long, value_name = "NAME", default_value = "vm1")]
    pub vm_name: String,
    /// The VM size.
    #[arg(long, value_name = "SIZE", default_value = "Standard_D2s_v5")]
    pub size: String,
    /// The VM's security type.
    #[arg(long, value_enum, default_value_t = SecurityArg::Standard)]
    pub security_type: SecurityArg,
    /// The admin user you will pass (omit for a Specialized image).
    #[arg(long, value_name = "USER")]
    pub admin_username: Option<String>,
    /// The SSH public key you will pass: a file, or the key text itself.
    #[arg(long, value_name = "KEY", requires = "admin_username")]
    pub ssh_key: Option<String>,
    /// You will give the admin user a password (galleon never asks for it).
    #[arg(long, requires = "admin_username", conflicts_with = "ssh_key")]
    pub password_auth: bool,
    /// The multi-tenant app's client id.
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Read the client secret from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// Read the client secret from this file.
    #[arg(long, value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,
    /// Use a federated token file (default: $AZURE_FEDERATED_TOKEN_FILE).
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "")]
    pub federated_token_file: Option<PathBuf>,
    /// Use the Azure CLI's login (`az login --tenant` in both tenants).
    #[arg(long)]
    pub azure_cli: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the galleon workspace that expresses this setup into DIR.
    #[arg(long, value_name = "DIR")]
    pub emit_manifest: Option<PathBuf>,
    /// ARM endpoint of a custom cloud (the emulator); default: Azure's public cloud.
    #[arg(long, env = "GALLEON_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// Extra CA certificate (PEM) to trust for --endpoint.
    #[arg(long, env = "GALLEON_CA_FILE", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

/// `galleon doctor`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum DoctorCommand {
    /// Explain an Azure error that `az vm create`, Terraform or Bicep printed: paste it into
    /// FILE or standard input (ARM's JSON body, the CLI's `(Code) message` text, or a
    /// deployment's `DeploymentFailed` with its details).
    #[command(after_help = "Examples:
  az vm create ... 2> error.txt; galleon doctor explain error.txt
  pbpaste | galleon doctor explain --json

Exit status: 0 when a row of docs/troubleshooting.md explains the error, 1 when none does.")]
    Explain(super::explain::ExplainArgs),
}

/// A flag clap requires whenever the checks run (no subcommand).
fn given(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

/// `--security-type` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SecurityArg {
    /// No security profile.
    #[value(name = "Standard")]
    Standard,
    /// Trusted Launch.
    #[value(name = "TrustedLaunch")]
    TrustedLaunch,
    /// Confidential VM.
    #[value(name = "ConfidentialVM")]
    ConfidentialVm,
}

fn setup(args: &DoctorArgs, image_tenant: String, target_tenant: String) -> Result<Setup, String> {
    let image = ImageRef::parse(given(&args.image)).map_err(|e| e.to_string())?;
    let admin = match (&args.admin_username, &args.ssh_key, args.password_auth) {
        (None, _, _) => AdminProfile::None,
        (Some(u), _, true) => AdminProfile::Password {
            username: u.clone(),
        },
        (Some(u), Some(key), false) => {
            let text = if key.starts_with("ssh-") || key.starts_with("ecdsa-") {
                key.clone()
            } else {
                std::fs::read_to_string(key)
                    .map_err(|e| format!("cannot read SSH key {key}: {e}"))?
                    .trim()
                    .to_string()
            };
            AdminProfile::SshKey {
                username: u.clone(),
                public_key: text,
            }
        }
        (Some(_), None, false) => {
            return Err("--admin-username needs --ssh-key or --password-auth".into());
        }
    };
    let credential = if let Some(var) = &args.client_secret_env {
        Credential::SecretEnv { var: var.clone() }
    } else if let Some(path) = &args.client_secret_file {
        Credential::SecretFile { path: path.clone() }
    } else if let Some(path) = &args.federated_token_file {
        let path = (!path.as_os_str().is_empty()).then(|| path.clone());
        Credential::FederatedTokenFile { path }
    } else {
        Credential::AzureCli
    };
    let s = Setup {
        image,
        image_tenant,
        target_tenant,
        target_subscription: given(&args.subscription).to_string(),
        resource_group: given(&args.resource_group).to_string(),
        region: given(&args.location).to_string(),
        vm_name: args.vm_name.clone(),
        vm_size: args.size.clone(),
        admin,
        security_type: match args.security_type {
            SecurityArg::Standard => SecurityType::Standard,
            SecurityArg::TrustedLaunch => SecurityType::TrustedLaunch,
            SecurityArg::ConfidentialVm => SecurityType::ConfidentialVm,
        },
        client_id: args.client_id.clone(),
        credential,
    };
    s.validate().map_err(|e| e.to_string())?;
    Ok(s)
}

fn with_hint(e: galleon_azure::AzureError) -> String {
    match e.hint() {
        Some(h) => format!("{e}\nhint: {h}"),
        None => e.to_string(),
    }
}

/// `given`, or the tenant ARM's 401 challenge names for `subscription` (entra.md §4), said on
/// stderr so the user sees what was assumed.
async fn tenant_of(
    probe: &LiveProbe,
    given: Option<&String>,
    subscription: &str,
    what: &str,
    flag: &str,
) -> Result<String, String> {
    if let Some(t) = given {
        return Ok(t.clone());
    }
    let found = galleon_doctor::Probe::subscription_tenant(probe, subscription)
        .await
        .map_err(|f| {
            format!(
                "cannot find the tenant of subscription {subscription}: {}",
                f.answer.message
            )
        })?;
    let tenant = found.ok_or_else(|| {
        format!("ARM did not name the tenant of subscription {subscription}: pass {flag}")
    })?;
    eprintln!("{what}: {tenant} (named by ARM for subscription {subscription})");
    Ok(tenant)
}

/// Connects to the cloud, settles both tenants (given, or named by ARM) and configures their
/// credentials.
async fn connect(args: &DoctorArgs) -> Result<(Setup, LiveProbe), String> {
    let image = ImageRef::parse(given(&args.image)).map_err(|e| e.to_string())?;
    let cloud = Cloud::resolve(args.endpoint.as_deref(), args.ca_file.as_deref())
        .await
        .map_err(with_hint)?;
    let client = ArmClient::new(cloud, ClientOptions::default()).map_err(with_hint)?;
    let probe = LiveProbe::new(client.clone()).map_err(|f| f.answer.message)?;
    let image_tenant = tenant_of(
        &probe,
        args.image_tenant.as_ref(),
        &image.subscription,
        "image tenant",
        "--image-tenant",
    )
    .await?;
    let target_tenant = tenant_of(
        &probe,
        args.tenant.as_ref(),
        given(&args.subscription),
        "tenant",
        "--tenant",
    )
    .await?;
    let s = setup(args, image_tenant, target_tenant)?;
    client
        .configure_credentials(&s.credential_specs())
        .map_err(|e| with_hint(e.into()))?;
    Ok((s, probe))
}

/// Runs the checks; exit 1 when one failed or the input was unusable.
pub fn run(args: &DoctorArgs, _global: &GlobalArgs) -> ExitStatus {
    if let Some(DoctorCommand::Explain(explain)) = &args.command {
        return super::explain::run(explain);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let report = runtime.block_on(async {
        let (s, probe) = connect(args).await?;
        let report = galleon_doctor::run(&s, &probe).await;
        Ok::<_, String>((s, report))
    });
    let (s, report) = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Failure;
        }
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report.to_json()).expect("JSON renders");
        println!("{text}");
    } else {
        print!("{}", galleon_doctor::render_text(&report));
    }
    if let Some(dir) = &args.emit_manifest {
        match galleon_doctor::emit_workspace(&s, dir) {
            Ok(paths) => {
                for p in paths {
                    eprintln!("wrote {}", p.display());
                }
                eprintln!(
                    "next: galleon validate {0} && galleon plan {0}",
                    dir.display()
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitStatus::Failure;
            }
        }
    }
    if report.failed() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
