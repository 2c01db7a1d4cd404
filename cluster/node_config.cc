#include "cluster/node_config.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "engine/log_manager.h"

namespace streamctl::cluster {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

template <typename T>
bool parse_int(std::string_view text, T* out) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  out.append(s);
  out.push_back('\'');
  return out;
}

}  // namespace

std::string PeerAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<PeerAddress> parse_peer_address(std::string_view text) {
  PeerAddress a;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Error::invalid_argument("address " + quoted(text) + " is not [ipv6]:port");
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return Error::invalid_argument("address " + quoted(text) + " has no port: write host:port, e.g. " +
                                     std::string(text) + ":9092");
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos)
      return Error::invalid_argument("address " + quoted(text) +
                                     ": put an IPv6 address in brackets, e.g. [::1]:9092");
    port = text.substr(colon + 1);
  }
  if (a.host.empty()) return Error::invalid_argument("address " + quoted(text) + " has no host");
  int value = 0;
  if (!parse_int(port, &value) || value < 1 || value > 65535)
    return Error::invalid_argument("address " + quoted(text) + " has a bad port " + quoted(port) +
                                   " (a number from 1 to 65535)");
  a.port = uint16_t(value);
  return a;
}

const Peer& NodeConfig::self() const {
  const Peer* p = find(node_id);
  STREAMCTL_CHECK(p != nullptr, "node %d is not among its peers", node_id);
  return *p;
}

const Peer* NodeConfig::find(raft::NodeId id) const {
  for (const Peer& p : peers)
    if (p.id == id) return &p;
  return nullptr;
}

std::vector<raft::NodeId> NodeConfig::voters() const {
  std::vector<raft::NodeId> out;
  for (const Peer& p : peers)
    if (p.voter) out.push_back(p.id);
  return out;
}

Result<NodeConfig> parse_peers(std::string_view peers, std::string_view advertise,
                               std::optional<raft::NodeId> node_id) {
  peers = trim(peers);
  if (peers.empty()) return Error::invalid_argument("--peers is empty: list every node as host:port,host:port,...");
  std::vector<std::string_view> entries = split(peers, ',');
  std::optional<bool> with_ids;  // the form of the first entry
  NodeConfig config;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string_view entry = trim(entries[i]);
    std::string where = "--peers entry " + std::to_string(i + 1);
    if (entry.empty())
      return Error::invalid_argument(where + " is empty: remove the extra ',' (entries are host:port)");
    size_t at = entry.find('@');
    bool has_id = at != std::string_view::npos;
    if (with_ids && *with_ids != has_id)
      return Error::invalid_argument(where + " " + quoted(entry) +
                                     " mixes the two forms: write every entry as host:port, or every entry "
                                     "as id@host:port");
    with_ids = has_id;
    Peer peer;
    if (has_id) {
      std::string_view id_text = entry.substr(0, at);
      if (!parse_int(id_text, &peer.id) || peer.id < 0)
        return Error::invalid_argument(where + " " + quoted(entry) + " has a bad node id " + quoted(id_text) +
                                       " (a number >= 0)");
      entry = entry.substr(at + 1);
    } else {
      peer.id = raft::NodeId(i + 1);
    }
    auto address = parse_peer_address(entry);
    if (!address.ok()) return Error::invalid_argument(where + ": " + address.error().message);
    peer.address = std::move(address).value();
    for (const Peer& other : config.peers) {
      if (other.address == peer.address)
        return Error::invalid_argument(where + " " + quoted(peer.address.to_string()) +
                                       " is listed twice: every node needs its own host:port");
      if (other.id == peer.id)
        return Error::invalid_argument(where + ": node id " + std::to_string(peer.id) +
                                       " is used twice (" + other.address.to_string() + " and " +
                                       peer.address.to_string() + "): give every node its own id");
    }
    peer.voter = config.peers.size() < NodeConfig::kMaxVoters;
    config.peers.push_back(std::move(peer));
  }

  // Which entry is this node.
  const Peer* by_address = nullptr;
  if (!trim(advertise).empty()) {
    auto self = parse_peer_address(trim(advertise));
    if (!self.ok()) return Error::invalid_argument("advertise address: " + self.error().message);
    for (const Peer& p : config.peers)
      if (p.address == *self) by_address = &p;
  }
  if (*with_ids) {
    if (!node_id)
      return Error::invalid_argument("--peers in the id@host:port form needs --node-id: say which entry is this node");
    const Peer* mine = config.find(*node_id);
    if (mine == nullptr)
      return Error::invalid_argument("--node-id " + std::to_string(*node_id) + " is not in --peers (" +
                                     std::string(peers) + "): add " + std::to_string(*node_id) +
                                     "@host:port for this node, or pass the id of its entry");
    if (by_address != nullptr && by_address != mine)
      return Error::invalid_argument("--node-id " + std::to_string(*node_id) + " is " + mine->address.to_string() +
                                     " in --peers, but this node advertises " + std::string(trim(advertise)) +
                                     ", the address of node " + std::to_string(by_address->id) +
                                     ": fix --node-id or --advertise");
    config.node_id = *node_id;
    return config;
  }
  if (by_address == nullptr) {
    if (trim(advertise).empty())
      return Error::invalid_argument("cannot tell which --peers entry is this node: pass --advertise host:port");
    return Error::invalid_argument("this node's address " + std::string(trim(advertise)) + " is not in --peers (" +
                                   std::string(peers) +
                                   "): pass --advertise with this node's entry, or add it to --peers on every node");
  }
  if (node_id && *node_id != by_address->id)
    return Error::invalid_argument("--node-id " + std::to_string(*node_id) + " contradicts --peers: " +
                                   by_address->address.to_string() + " is entry " + std::to_string(by_address->id) +
                                   " (ids follow the list order); drop --node-id or use the id@host:port form");
  config.node_id = by_address->id;
  return config;
}

// ---- identity

std::string new_cluster_id() { return engine::LogManager::new_topic_id(); }

Result<std::optional<ClusterIdentity>> read_identity(FileSystem& fs, const std::string& data_dir) {
  const std::string path = join_path(data_dir, std::string(kMetaPropertiesFile));
  auto bytes = read_file(fs, path);
  if (!bytes.ok()) {
    if (bytes.error().code == ErrorCode::kNotFound) return std::optional<ClusterIdentity>();
    return std::move(bytes).error();
  }
  std::map<std::string, std::string, std::less<>> fields;
  for (std::string_view line : split(as_string_view(*bytes), '\n')) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return Error::corruption(path + ": line " + quoted(line) + " is not key=value (the file was damaged; "
                               "restore it from another copy of this node's data dir)");
    fields[std::string(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
  }
  auto field = [&](std::string_view key) -> const std::string* {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  };
  const std::string* version = field("version");
  const std::string* cluster = field("cluster.id");
  const std::string* node = field("node.id");
  ClusterIdentity id;
  if (version == nullptr || *version != "1")
    return Error::corruption(path + ": version must be 1 (found " + (version ? quoted(*version) : "none") + ")");
  if (cluster == nullptr || cluster->empty()) return Error::corruption(path + ": cluster.id is missing");
  if (node == nullptr || !parse_int(std::string_view(*node), &id.node_id) || id.node_id < 0)
    return Error::corruption(path + ": node.id is missing or not a number >= 0");
  id.cluster_id = *cluster;
  return std::optional<ClusterIdentity>(std::move(id));
}

Status write_identity(FileSystem& fs, const std::string& data_dir, const ClusterIdentity& identity) {
  STREAMCTL_TRY(fs.create_dirs(data_dir));
  std::string text = "# streamctl cluster identity (written once; do not edit)\nversion=1\ncluster.id=" +
                     identity.cluster_id + "\nnode.id=" + std::to_string(identity.node_id) + "\n";
  return write_file_atomically(fs, join_path(data_dir, std::string(kMetaPropertiesFile)), as_byte_span(text));
}

Result<ClusterIdentity> open_identity(FileSystem& fs, const std::string& data_dir, raft::NodeId node_id,
                                      const std::optional<std::string>& cluster_id) {
  STREAMCTL_ASSIGN_OR_RETURN(std::optional<ClusterIdentity> stored, read_identity(fs, data_dir));
  const std::string path = join_path(data_dir, std::string(kMetaPropertiesFile));
  if (stored) {
    if (stored->node_id != node_id)
      return Error::invalid_argument(
          "data dir " + data_dir + " belongs to node " + std::to_string(stored->node_id) + " (" + path +
          "), not to node " + std::to_string(node_id) + ": start node " + std::to_string(stored->node_id) +
          " on it, or give node " + std::to_string(node_id) + " its own --data-dir");
    if (cluster_id && *cluster_id != stored->cluster_id)
      return Error::invalid_argument(
          "data dir " + data_dir + " belongs to cluster " + stored->cluster_id + " (" + path +
          "), but the peers form cluster " + *cluster_id +
          ": point --data-dir at this node's directory of that cluster, or use an empty --data-dir to join it "
          "as a new node");
    return *std::move(stored);
  }
  ClusterIdentity fresh{cluster_id ? *cluster_id : new_cluster_id(), node_id};
  STREAMCTL_TRY(write_identity(fs, data_dir, fresh));
  return fresh;
}

}  // namespace streamctl::cluster
