use event_runtime::OpenEnum;

#[derive(OpenEnum)]
pub enum Tier {
    Free,
    Pro,
}

fn main() {}
