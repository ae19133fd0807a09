//! A private nats-server, killed and restarted while events are published
//! and consumed: nothing lost, no effect doubled.

mod common;

use common::*;
use event_delivery::{ConsumerBuilder, HandlerError, InMemoryStore, PublishAsync};
use event_nats::{NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::Publisher;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// A nats-server with JetStream on a free port, storing under `dir`;
/// killed when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    fn start(port: u16, dir: &Path) -> Server {
        let child = Command::new(NATS_SERVER)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server at /usr/sbin/nats-server");
        Server {
            child,
            port,
            dir: dir.to_owned(),
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.kill();
        *self = Server::start(self.port, &self.dir.clone());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_outage_during_publish_and_consume_loses_nothing_and_doubles_nothing() {
    const N: u32 = 60;
    let dir = std::env::temp_dir().join(unique_prefix("outage"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = Server::start(free_port(), &dir);
    let url = format!("127.0.0.1:{}", server.port);
    let js = event_nats::connect(&url).await.unwrap();
    let topology = Topology::new()
        .consumer::<CertificateInbound>("certificate-service")
        .subjects(Subjects::new("events"));
    topology.ensure(&js).await.unwrap();

    // The consumer's effects: one entry per handler run that committed.
    let effects: Arc<Mutex<Vec<u32>>> = Arc::default();
    let e = effects.clone();
    let consumer = ConsumerBuilder::named("certificate-service")
        .store(InMemoryStore::new())
        .handle(move |event: CertificateInbound| {
            let e = e.clone();
            async move {
                e.lock().unwrap().push(seq_of(&event).1);
                Ok::<(), HandlerError>(())
            }
        });
    let sub = NatsSubscriber::new(&js, &topology, "certificate-service")
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));

    let (outage, outage_now) = oneshot::channel::<()>();
    let publisher_js = js.clone();
    let publishing = tokio::spawn(async move {
        let publisher =
            Publisher::<EnrollmentService, _>::new(NatsTransport::new(publisher_js).attempts(30));
        let mut outage = Some(outage);
        for i in 0..N {
            if i == N / 3 {
                let _ = outage.take().unwrap().send(());
            }
            publisher
                .publish(&completed(&format!("enr_{i}"), i))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    outage_now.await.unwrap();
    server.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.restart();
    publishing.await.unwrap();

    let delivered = until(Duration::from_secs(60), || {
        effects.lock().unwrap().iter().collect::<HashSet<_>>().len() >= N as usize
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(()).unwrap();
    let stats = run.await.unwrap();
    let effects = effects.lock().unwrap().clone();
    let distinct: HashSet<u32> = effects.iter().copied().collect();
    let mut stream = js.get_stream("EVENTS").await.unwrap();
    let stored = stream.info().await.unwrap().state.messages;
    println!(
        "outage: {N} published across a server kill and restart, {stored} stored, {} handled ({} distinct), {} duplicates acked",
        effects.len(),
        distinct.len(),
        stats.duplicates
    );
    assert!(delivered, "only {} of {N} handled", distinct.len());
    assert_eq!(stored, u64::from(N), "stored once each");
    assert_eq!(distinct.len(), N as usize, "nothing lost");
    assert_eq!(effects.len(), N as usize, "no effect doubled");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
