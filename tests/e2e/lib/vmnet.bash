# vmnet.bash — microVMs on a berth network beside a container (vmm_net.bats, vm_net.bats):
# the network `vmnet` (its resolver forwarding to 127.0.0.9, where nothing listens) and a
# busybox container `peer` on it.
#
#   load helpers
#   load lib/vmnet
#   net_and_peer    # sets bridge, subnet, gw, mask, peer_ip, peer_mac, sandbox

# What the VM and container tests need: root, /dev/kvm, busybox, jq; the network and the
# container on it.
net_and_peer() {
        require_kvm
        berth_busybox_setup
        require_cmd jq python3 nsenter
        run "$BERTH" network create -o dns.upstream=127.0.0.9 vmnet
        assert_success
        bridge=$(net_json | jq -r '.Options["com.docker.network.bridge.name"]')
        subnet=$(net_json | jq -r '.IPAM.Config[0].Subnet')
        gw=$(net_json | jq -r '.IPAM.Config[0].Gateway')
        [ -n "$bridge" ] && [ "$bridge" != null ] && [ "$subnet" != null ]
        mask=$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1]).netmask)' "$subnet")
        "$BERTH" run -d --name peer --network vmnet busybox sleep 300 >/dev/null
        local s
        s=$("$BERTH" inspect peer | jq '.[0].NetworkSettings')
        peer_ip=$(jq -r '.Networks.vmnet.IPAddress' <<<"$s")
        peer_mac=$(jq -r '.Networks.vmnet.MacAddress' <<<"$s")
        sandbox=$(jq -r '.SandboxKey' <<<"$s")
        [ -n "$peer_ip" ] && [ "$peer_ip" != null ]
}

net_json() {
        "$BERTH" network inspect vmnet | jq '.[0]'
}

# The endpoint (Containers entry) of the VM named $1: its JSON, or nothing.
vm_endpoint() {
        net_json | jq -c --arg n "$1" '.Containers // {} | to_entries[] | select(.value.Name == $n)'
}
