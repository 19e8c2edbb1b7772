package netlab

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	nfqueue "github.com/florianl/go-nfqueue/v2"
	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
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

// Plan is what the lab's data plane does. Verdicts not listed are Allow.
// Loss and Delay are faults to inject on top.
type Plan struct {
	Verdicts map[Cell]model.Verdict
	// Loss drops this percentage of the cell's packets, at random.
	Loss map[Cell]int
	// Delay holds back the packets that open the cell's connections.
	Delay map[Cell]time.Duration
}

// Program replaces the lab's rules with plan. Verdicts are enforced on the
// destination's input, after conntrack lets established traffic through (as
// Antrea does): Drop as drop, Reject as a TCP reset or ICMP host-prohibited
// (the answers Antrea's Reject sends). A cell that pins its client port
// matches that port only, ahead of the cells that do not; its Allow, when
// listed, accepts.
func (l *Lab) Program(plan Plan) error {
	byDestination := map[string][]Cell{}
	for cell, v := range plan.Verdicts {
		if err := l.checkCell(cell); err != nil {
			return err
		}
		if v != model.Allow || cell.Probe.SourcePort != 0 {
			byDestination[cell.To] = append(byDestination[cell.To], cell)
		}
	}
	for _, cells := range byDestination {
		// A cell that pins its client port is more specific than one that
		// does not: its rule goes first.
		slices.SortStableFunc(cells, func(a, b Cell) int { return cmp.Compare(unpinned(a), unpinned(b)) })
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

// unpinned orders cells that pin their client port first.
func unpinned(c Cell) int {
	if c.Probe.SourcePort != 0 {
		return 0
	}
	return 1
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
	// Connections tracked under the previous plan would bypass the new one
	// (established traffic is accepted first), so a new plan starts clean.
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.ConntrackTableFlush(netlink.ConntrackTable); err != nil {
		return fmt.Errorf("flushing conntrack: %w", err)
	}
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		return err
	}
	defer conn.CloseLasting()
	conn.FlushRuleset() // this namespace holds nothing but the lab's rules
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
	if c.Probe.SourcePort != 0 {
		exprs = append(exprs,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(c.Probe.SourcePort))})
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
	case v == model.Allow:
		return &expr.Verdict{Kind: expr.VerdictAccept}
	case v == model.Drop:
		return &expr.Verdict{Kind: expr.VerdictDrop}
	case p == model.TCP:
		return &expr.Reject{Type: unix.NFT_REJECT_TCP_RST}
	}
	// ICMP type 3 code 10, host administratively prohibited, as Antrea sends.
	return &expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 10}
}

// programDelays holds back the packets that open a delayed cell's
// connections: a rule on the destination's input, ahead of the verdict chain,
// queues them (NFQUEUE, one queue per cell) and the lab releases each one after
// the delay. Replies are not delayed, so no other cell is touched. This needs
// no netem, which some kernels lack.
func (l *Lab) programDelays(delays map[Cell]time.Duration) error {
	l.stopDelays()
	byDestination := map[string][]Cell{}
	for c := range delays {
		if err := l.checkCell(c); err != nil {
			return err
		}
		byDestination[c.To] = append(byDestination[c.To], c)
	}
	queue := uint16(0)
	for _, name := range l.order {
		cells := byDestination[name]
		if len(cells) == 0 {
			continue
		}
		ns, err := netns.GetFromName(l.endpoints[name].namespace)
		if err != nil {
			return err
		}
		conn, err := nftables.New(nftables.WithNetNSFd(int(ns)))
		if err != nil {
			ns.Close()
			return err
		}
		table := conn.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: "tierproof-lab-delay"})
		accept := nftables.ChainPolicyAccept
		chain := conn.AddChain(&nftables.Chain{Name: "input", Table: table, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityRef(*nftables.ChainPriorityFilter - 10), Policy: &accept})
		for _, c := range cells {
			queue++
			conn.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: append(l.match(c),
				&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitNEW), Xor: make([]byte, 4)},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
				// xt NFQUEUE revision 0: its info is the queue number.
				&expr.Target{Name: "NFQUEUE", Rev: 0, Info: &xt.Unknown{byte(queue), byte(queue >> 8)}},
			)})
			if err := l.releaseAfter(int(ns), queue, delays[c]); err != nil {
				ns.Close()
				conn.CloseLasting()
				return fmt.Errorf("delays at %s: %w", name, err)
			}
		}
		err = conn.Flush()
		conn.CloseLasting()
		ns.Close()
		if err != nil {
			return fmt.Errorf("delays at %s: %w", name, err)
		}
	}
	return nil
}

// releaseAfter accepts every packet of a queue once delay has passed.
func (l *Lab) releaseAfter(ns int, queue uint16, delay time.Duration) error {
	q, err := nfqueue.Open(&nfqueue.Config{NetNS: ns, NfQueue: queue, MaxPacketLen: 0xffff, MaxQueueLen: 4096,
		Copymode: nfqueue.NfQnlCopyMeta, WriteTimeout: time.Second})
	if err != nil {
		return fmt.Errorf("opening NFQUEUE %d: %w", queue, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	release := func(a nfqueue.Attribute) int {
		if a.PacketID != nil {
			id := *a.PacketID
			time.AfterFunc(delay, func() { _ = q.SetVerdict(id, nfqueue.NfAccept) })
		}
		return 0
	}
	if err := q.RegisterWithErrorFunc(ctx, release, func(error) int { return 0 }); err != nil {
		cancel()
		q.Close()
		return fmt.Errorf("reading NFQUEUE %d: %w", queue, err)
	}
	l.delayStops = append(l.delayStops, func() { cancel(); q.Close() })
	return nil
}

func (l *Lab) stopDelays() {
	for _, stop := range l.delayStops {
		stop()
	}
	l.delayStops = nil
}
