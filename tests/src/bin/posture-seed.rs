//! `posture-seed --endpoint-url URL`: seeds a local AWS API emulator (a fresh moto) with the
//! mixed two-region account the end-to-end tests scan, and prints a one-line summary.
//!
//! Used by the README demo:
//! `moto_server -p 5000 & posture-seed --endpoint-url http://127.0.0.1:5000` then
//! `posture scan --endpoint-url http://127.0.0.1:5000 --region us-east-1 --region us-west-2`.

use std::process::ExitCode;

const USAGE: &str = "usage: posture-seed --endpoint-url URL\n\
\n\
Seeds the emulator at URL (a fresh moto server) with a mixed account in us-east-1 and\n\
us-west-2: a passing and a failing resource for every rule of the HIPAA baseline that the\n\
emulator can represent. Credentials are testing/testing. Run it once per emulator.";

fn parse_args() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let mut endpoint = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--endpoint-url" => {
                endpoint = Some(
                    args.next()
                        .ok_or("--endpoint-url needs a URL, e.g. http://127.0.0.1:5000")?,
                );
            }
            other => match other.strip_prefix("--endpoint-url=") {
                Some(url) => endpoint = Some(url.to_owned()),
                None => return Err(format!("unexpected argument {other:?}")),
            },
        }
    }
    let endpoint = endpoint.ok_or("--endpoint-url is required")?;
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(format!(
            "--endpoint-url {endpoint:?} is not a URL: give it as http://HOST:PORT"
        ));
    }
    Ok(endpoint)
}

#[tokio::main]
async fn main() -> ExitCode {
    let endpoint = match parse_args() {
        Ok(e) => e,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sdk = posture_e2e::sdk_config(&endpoint, posture_e2e::seed::PRIMARY).await;
    match posture_e2e::seed::seed_mixed_account(&sdk).await {
        Ok(expectations) => {
            println!("{} at {endpoint}", expectations.summary());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: seeding {endpoint} failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
