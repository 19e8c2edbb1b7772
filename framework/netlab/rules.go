package netlab

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/tierproof/tierproof/framework/model"
)

// Cell is one flow of the verdict table.
type Cell struct {
	From, To string
	Probe    model.Probe
}

// Pair is an ordered pair of endpoints.
type Pair struct{ From, To string }

// Plan is what the lab's data plane does. Verdicts not listed are Allow.
// Loss and Delay are faults to inject on top.
type Plan struct {
	Verdicts map[Cell]model.Verdict
	// Loss drops this percentage of the cell's packets, at random.
	Loss map[Cell]int
	// Delay holds every packet from From to To back this long.
	Delay map[Pair]time.Duration
}

// Program replaces the lab's rules with plan. Verdicts are enforced on the
// destination's input, after conntrack lets established traffic through (as
// Antrea does): Drop as drop, Reject as a TCP reset or ICMP host-prohibited
// (the answers Antrea's Reject sends).
func (l *Lab) Program(plan Plan) error {
	byDestination := map[string][]Cell{}
	for cell, v := range plan.Verdicts {
		if err := l.checkCell(cell); err != nil {
			return err
		}
		if v != model.Allow {
			byDestination[cell.To] = append(byDestination[cell.To], cell)
		}
	}
	lossy := map[string][]Cell{}
	for cell, pct := range plan.Loss {
		if err := l.checkCell(cell); err != nil {
			return err
		}
		if pct < 0 || pct > 100 {
			return fmt.Errorf("loss %d%% for %v: want 0 to 100", pct, cell)
		}
		lossy[cell.To] = append(lossy[cell.To], cell)
	}
	for _, name := range l.order {
		if err := l.programEndpoint(name, byDestination[name], lossy[name], plan); err != nil {
			return fmt.Errorf("programming %s: %w", name, err)
		}
	}
	return l.programDelays(plan.Delay)
}

func (l *Lab) checkCell(c Cell) error {
	if _, ok := l.endpoints[c.From]; !ok {
		return fmt.Errorf("no lab endpoint %q", c.From)
	}
	if _, ok := l.endpoints[c.To]; !ok {
		return fmt.Errorf("no lab endpoint %q", c.To)
	}
	return nil
}

func (l *Lab) programEndpoint(name string, cells, lossy []Cell, plan Plan) error {
	ns, err := netns.GetFromName(l.endpoints[name].namespace)
	if err != nil {
		return err
	}
	defer ns.Close()
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		return err
	}
	defer conn.CloseLasting()
	conn.FlushRuleset()
	table := conn.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "tierproof-lab"})
	accept := nftables.ChainPolicyAccept
	chain := conn.AddChain(&nftables.Chain{Name: "input", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	add := func(exprs ...expr.Any) { conn.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: exprs}) }

	for _, cell := range lossy {
		add(append(l.match(cell),
			&expr.Numgen{Register: 1, Modulus: 100, Type: unix.NFT_NG_RANDOM},
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(uint32(plan.Loss[cell]))},
			&expr.Verdict{Kind: expr.VerdictDrop})...)
	}
	add(&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		&expr.Verdict{Kind: expr.VerdictAccept})
	for _, cell := range cells {
		add(append(l.match(cell), verdictExpr(plan.Verdicts[cell], cell.Probe.Protocol))...)
	}
	return conn.Flush()
}

// match selects a cell's packets: IPv4 from the source, the protocol, and the
// destination port or ICMP echo request.
func (l *Lab) match(c Cell) []expr.Any {
	from := l.endpoints[c.From].ip.As4()
	exprs := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: from[:]},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{ipProtocol(c.Probe.Protocol)}},
	}
	if c.Probe.Protocol == model.ICMP {
		return append(exprs,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{8}}) // echo request
	}
	return append(exprs,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(c.Probe.Port))})
}

func ipProtocol(p model.Protocol) byte {
	switch p {
	case model.UDP:
		return unix.IPPROTO_UDP
	case model.SCTP:
		return unix.IPPROTO_SCTP
	case model.ICMP:
		return unix.IPPROTO_ICMP
	}
	return unix.IPPROTO_TCP
}

func verdictExpr(v model.Verdict, p model.Protocol) expr.Any {
	switch {
	case v == model.Drop:
		return &expr.Verdict{Kind: expr.VerdictDrop}
	case p == model.TCP:
		return &expr.Reject{Type: unix.NFT_REJECT_TCP_RST}
	}
	// ICMP type 3 code 10, host administratively prohibited, as Antrea sends.
	return &expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 10}
}

// programDelays puts a netem delay on each source's egress toward the
// destinations of its delayed pairs (prio qdisc, a u32 filter per pair).
func (l *Lab) programDelays(delays map[Pair]time.Duration) error {
	bySource := map[string]map[string]time.Duration{}
	for p, d := range delays {
		if err := l.checkCell(Cell{From: p.From, To: p.To}); err != nil {
			return err
		}
		if bySource[p.From] == nil {
			bySource[p.From] = map[string]time.Duration{}
		}
		bySource[p.From][p.To] = d
	}
	for _, name := range l.order {
		if err := l.programEndpointDelays(name, bySource[name]); err != nil {
			return fmt.Errorf("delays at %s: %w", name, err)
		}
	}
	return nil
}

func (l *Lab) programEndpointDelays(name string, delays map[string]time.Duration) error {
	ns, err := netns.GetFromName(l.endpoints[name].namespace)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName("eth0")
	if err != nil {
		return err
	}
	root := netlink.MakeHandle(1, 0)
	// Start from the default qdisc; deleting one that is not there is fine.
	_ = h.QdiscDel(&netlink.Prio{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Handle: root, Parent: netlink.HANDLE_ROOT}})
	if len(delays) == 0 {
		return nil
	}
	// Bands 1:1..1:3 carry ordinary traffic; each delayed destination gets a band with netem.
	prio := &netlink.Prio{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Handle: root, Parent: netlink.HANDLE_ROOT},
		Bands: uint8(3 + len(delays)), PriorityMap: [16]uint8{1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}}
	if err := h.QdiscAdd(prio); err != nil {
		return fmt.Errorf("prio qdisc: %w", err)
	}
	band := uint16(3)
	for to, d := range delays {
		band++
		netem := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Parent: netlink.MakeHandle(1, band), Handle: netlink.MakeHandle(band*10, 0)},
			netlink.NetemQdiscAttrs{Latency: uint32(d.Microseconds())})
		if err := h.QdiscAdd(netem); err != nil {
			return fmt.Errorf("netem: %w", err)
		}
		dst := l.endpoints[to].ip.As4()
		filter := &netlink.U32{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: link.Attrs().Index, Parent: root, Priority: 1, Protocol: unix.ETH_P_IP},
			ClassId:     netlink.MakeHandle(1, band),
			Sel: &netlink.TcU32Sel{Flags: netlink.TC_U32_TERMINAL, Nkeys: 1,
				Keys: []netlink.TcU32Key{{Mask: 0xffffffff, Val: binary.NativeEndian.Uint32(dst[:]), Off: 16}}},
		}
		if err := h.FilterAdd(filter); err != nil {
			return fmt.Errorf("u32 filter: %w", err)
		}
	}
	return nil
}
