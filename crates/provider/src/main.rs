//! provider-docker: the controller binary.

fn main() {
    println!("provider-docker {}", env!("CARGO_PKG_VERSION"));
}
