//! Real network partitions for `partita chaos` (root only): every node runs in its own Linux
//! network namespace, joined by a veth pair to a bridge in the caller's namespace, which also
//! holds the clients' address. A partition adds blackhole routes inside the namespaces of the
//! nodes on either side (packets to the other side are dropped, TCP times out as on a cut
//! cable), while the clients, on the bridge's own address, still reach every node.
//!
//! Names carry the chaos process id (`pc<PID>n<N>`, bridge `pc<PID>br`, veth `pc<PID>v<N>`) so
//! that runs side by side do not collide; [`Net`] removes them all when dropped, and
//! [`Net::create`] first removes any left behind by a chaos process that is gone (killed
//! before it could clean up).

use std::net::Ipv4Addr;
use std::process::Command;

use anyhow::{Context, bail};

/// The namespaces, bridge and addresses of one run.
pub struct Net {
    prefix: String,
    nodes: u32,
    /// 10.A.B.0/24: nodes at .1..=.N, the clients (the bridge) at .254.
    subnet: [u8; 3],
    /// Blackhole routes in place, (in the namespace of node, to node).
    cuts: Vec<(u32, u32)>,
}

/// Whether this process may create network namespaces.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

impl Net {
    /// Namespaces for nodes 1..=nodes, each with loopback up and a veth to the bridge.
    pub fn create(nodes: u32) -> anyhow::Result<Net> {
        if !is_root() {
            bail!(
                "network partitions need root (network namespaces, veth, a bridge); \
                 run as root or leave partition/isolate/split out of --faults"
            );
        }
        remove_orphans();
        let pid = std::process::id();
        let net = Net {
            prefix: format!("pc{pid}"),
            nodes,
            subnet: [10, (pid >> 8) as u8, pid as u8],
            cuts: Vec::new(),
        };
        let bridge = net.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/24", net.client_addr()),
            "dev",
            &bridge,
        ])?;
        ip(&["link", "set", &bridge, "up"])?;
        for node in 1..=nodes {
            let ns = net.namespace(node);
            let host = format!("{}v{node}", net.prefix);
            let inner = format!("{}i{node}", net.prefix);
            ip(&["netns", "add", &ns])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &inner])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            ip(&["link", "set", &host, "master", &bridge])?;
            ip(&["link", "set", &host, "up"])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", net.node_addr(node)),
                "dev",
                &inner,
            ])?;
            ip(&["-n", &ns, "link", "set", &inner, "up"])?;
        }
        Ok(net)
    }

    /// The namespace node `node` runs in.
    pub fn namespace(&self, node: u32) -> String {
        format!("{}n{node}", self.prefix)
    }

    pub fn node_addr(&self, node: u32) -> Ipv4Addr {
        let [a, b, c] = self.subnet;
        Ipv4Addr::new(a, b, c, node as u8)
    }

    /// The address clients (this process's namespace) use.
    pub fn client_addr(&self) -> Ipv4Addr {
        let [a, b, c] = self.subnet;
        Ipv4Addr::new(a, b, c, 254)
    }

    fn bridge(&self) -> String {
        format!("{}br", self.prefix)
    }

    /// Nodes in `side` reach no node outside it, nor those them; clients reach all.
    pub fn cut_off(&mut self, side: &[u32]) -> anyhow::Result<()> {
        for a in 1..=self.nodes {
            for b in 1..=self.nodes {
                if side.contains(&a) != side.contains(&b) {
                    let ns = self.namespace(a);
                    let to = format!("{}/32", self.node_addr(b));
                    ip(&["-n", &ns, "route", "add", "blackhole", &to])?;
                    self.cuts.push((a, b));
                }
            }
        }
        Ok(())
    }

    /// Every node reaches every other again.
    pub fn heal(&mut self) -> anyhow::Result<()> {
        for (a, b) in std::mem::take(&mut self.cuts) {
            let ns = self.namespace(a);
            let to = format!("{}/32", self.node_addr(b));
            ip(&["-n", &ns, "route", "del", "blackhole", &to])?;
        }
        Ok(())
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        remove(&self.prefix, self.nodes);
    }
}

/// Deleting a namespace deletes the veth end inside it, and so its peer on the bridge.
fn remove(prefix: &str, nodes: u32) {
    for node in 1..=nodes {
        let _ = ip(&["netns", "del", &format!("{prefix}n{node}")]);
    }
    let _ = ip(&["link", "del", &format!("{prefix}br")]);
}

/// Namespaces and bridges of chaos processes that no longer run.
fn remove_orphans() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut gone = std::collections::BTreeMap::<u32, u32>::new();
    for name in listed.split_whitespace() {
        let Some((pid, node)) = name
            .strip_prefix("pc")
            .and_then(|rest| rest.split_once('n'))
            .and_then(|(pid, node)| Some((pid.parse::<u32>().ok()?, node.parse::<u32>().ok()?)))
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let max = gone.entry(pid).or_default();
            *max = (*max).max(node);
        }
    }
    for (pid, nodes) in gone {
        remove(&format!("pc{pid}"), nodes);
    }
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("running ip (iproute2)")?;
    if !out.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
