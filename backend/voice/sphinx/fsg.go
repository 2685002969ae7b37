package sphinx

// The recognizer's grammar as a word graph written straight in pocketsphinx's FSG form.
//
// Why not JSGF: pocketsphinx compiles JSGF to a finite-state grammar with a state for every
// rule reference, group and alternative, joined by null transitions. Its FSG search then
// visits every state × every phone at the end of each 10 ms frame, so a grammar of 878 states
// spent 28% of the decoding time there. Here the phrasings and the templates (with their slot
// lists inline) become one automaton, made deterministic over words and minimal (sentences
// that start alike share their first states, sentences that end alike their last ones), which
// is the fewest states any grammar of the same sentences can have.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// nfa is a word automaton with empty (epsilon) moves, built from sentences and template
// expressions; state 0 starts, state 1 accepts.
type nfa struct {
	eps   [][]int
	words []map[string][]int
}

func newNFA() *nfa {
	a := &nfa{}
	a.state()
	a.state()
	return a
}

func (a *nfa) state() int {
	a.eps = append(a.eps, nil)
	a.words = append(a.words, nil)
	return len(a.eps) - 1
}

func (a *nfa) word(from, to int, w string) {
	if a.words[from] == nil {
		a.words[from] = map[string][]int{}
	}
	a.words[from][w] = append(a.words[from][w], to)
}

// path adds the words as a chain of states from one state to another.
func (a *nfa) path(from, to int, ws []string) {
	if len(ws) == 0 {
		a.eps[from] = append(a.eps[from], to)
		return
	}
	for i, w := range ws {
		next := to
		if i < len(ws)-1 {
			next = a.state()
		}
		a.word(from, next, w)
		from = next
	}
}

// expr adds a template expression (space-separated tokens: words, "( a | b )", "[ a ]" and
// "<list>" references) between two states.
func (a *nfa) expr(from, to int, expr string, lists map[string][]string) error {
	toks := strings.Fields(expr)
	pos := 0
	var alt func(from, to int) error
	seq := func(from, to int) error {
		cur := from
		for pos < len(toks) && toks[pos] != "|" && toks[pos] != ")" && toks[pos] != "]" {
			next := a.state()
			switch t := toks[pos]; {
			case t == "(" || t == "[":
				pos++
				if err := alt(cur, next); err != nil {
					return err
				}
				want := map[string]string{"(": ")", "[": "]"}[t]
				if pos >= len(toks) || toks[pos] != want {
					return fmt.Errorf("grammar %q: %q is not closed", expr, t)
				}
				pos++
				if t == "[" {
					a.eps[cur] = append(a.eps[cur], next)
				}
			case strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">"):
				phrases, ok := lists[strings.Trim(t, "<>")]
				if !ok {
					return fmt.Errorf("grammar %q: no list %s", expr, t)
				}
				for _, ph := range phrases {
					a.path(cur, next, strings.Fields(ph))
				}
				pos++
			default:
				a.word(cur, next, t)
				pos++
			}
			cur = next
		}
		a.eps[cur] = append(a.eps[cur], to)
		return nil
	}
	alt = func(from, to int) error {
		for {
			if err := seq(from, to); err != nil {
				return err
			}
			if pos < len(toks) && toks[pos] == "|" {
				pos++
				continue
			}
			return nil
		}
	}
	if err := alt(from, to); err != nil {
		return err
	}
	if pos != len(toks) {
		return fmt.Errorf("grammar %q: unexpected %q", expr, toks[pos])
	}
	return nil
}

// closure is the set of states reachable by empty moves, sorted.
func (a *nfa) closure(states []int) []int {
	seen := map[int]bool{}
	stack := append([]int(nil), states...)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		stack = append(stack, a.eps[s]...)
	}
	out := make([]int, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// dnode is a state of the deterministic graph.
type dnode struct {
	end  bool
	next map[string]*dnode
	id   int
}

// maxGraphStates bounds the deterministic graph before it is minimised (the demo's makes 907
// states): a pack whose templates multiply into more gets an error and the recognizer keeps
// its previous grammar.
const maxGraphStates = 500_000

// determinize makes the automaton deterministic over words (subset construction; the language
// is finite, so this ends) and minimal (equal states merged bottom-up, as the graph has no
// cycles).
func (a *nfa) determinize() (*dnode, error) {
	made := map[string]*dnode{}
	var build func(set []int) *dnode
	build = func(set []int) *dnode {
		key := fmt.Sprint(set)
		if n, ok := made[key]; ok {
			return n
		}
		if len(made) >= maxGraphStates {
			return nil
		}
		n := &dnode{next: map[string]*dnode{}}
		made[key] = n
		moves := map[string][]int{}
		for _, s := range set {
			if s == 1 {
				n.end = true
			}
			for w, to := range a.words[s] {
				moves[w] = append(moves[w], to...)
			}
		}
		for w, to := range moves {
			n.next[w] = build(a.closure(to))
		}
		return n
	}
	root := build(a.closure([]int{0}))
	if len(made) >= maxGraphStates {
		return nil, fmt.Errorf("the grammar needs more than %d states: templates with several long slot lists multiply", maxGraphStates)
	}
	canon := map[string]*dnode{}
	done := map[*dnode]*dnode{}
	var minimize func(n *dnode) *dnode
	minimize = func(n *dnode) *dnode {
		if c, ok := done[n]; ok {
			return c
		}
		keys := make([]string, 0, len(n.next))
		for w := range n.next {
			keys = append(keys, w)
		}
		sort.Strings(keys)
		var sig strings.Builder
		if n.end {
			sig.WriteString("$")
		}
		for _, w := range keys {
			n.next[w] = minimize(n.next[w])
			fmt.Fprintf(&sig, "|%s>%p", w, n.next[w])
		}
		c, ok := canon[sig.String()]
		if !ok {
			c = n
			canon[sig.String()] = n
		}
		done[n] = c
		return c
	}
	return minimize(root), nil
}

// wordGraph is the minimal deterministic graph of everything the grammar accepts.
type wordGraph struct {
	root  *dnode
	nodes []*dnode // in a stable order; root first
}

// buildGraph makes the graph of the phrasings and the template expressions.
func buildGraph(sentences [][]string, exprs []string, lists map[string][]string) (*wordGraph, error) {
	a := newNFA()
	for _, s := range sentences {
		a.path(0, 1, s)
	}
	for _, e := range exprs {
		if err := a.expr(0, 1, e, lists); err != nil {
			return nil, err
		}
	}
	root, err := a.determinize()
	if err != nil {
		return nil, err
	}
	g := &wordGraph{root: root}
	seen := map[*dnode]bool{}
	var walk func(n *dnode)
	walk = func(n *dnode) { // breadth would do as well; depth-first keeps a path's states close
		if seen[n] {
			return
		}
		seen[n] = true
		n.id = len(g.nodes)
		g.nodes = append(g.nodes, n)
		keys := make([]string, 0, len(n.next))
		for w := range n.next {
			keys = append(keys, w)
		}
		sort.Strings(keys)
		for _, w := range keys {
			walk(n.next[w])
		}
	}
	walk(g.root)
	return g, nil
}

// fsg writes the graph in pocketsphinx's FSG text form. Every sentence is equally likely: a
// state's ways on (each word, and stopping where a sentence may end) are weighted by how many
// sentences go that way, so a short sentence is not favoured over a long one. The final state
// is the one where every sentence ends with nothing after it; a state where a sentence may end
// or go on has a null transition to it.
func (g *wordGraph) fsg(name string) string {
	final := -1
	for _, n := range g.nodes {
		if n.end && len(n.next) == 0 {
			final = n.id
		}
	}
	// paths[i] is how many sentences start at node i (the graph has no cycles).
	paths := make([]float64, len(g.nodes))
	for i := len(g.nodes) - 1; i >= 0; i-- {
		paths[i] = -1
	}
	var count func(n *dnode) float64
	count = func(n *dnode) float64 {
		if paths[n.id] >= 0 {
			return paths[n.id]
		}
		c := 0.0
		if n.end {
			c = 1
		}
		for _, m := range n.next {
			c += count(m)
		}
		paths[n.id] = c
		return c
	}
	count(g.root)
	prob := func(part, whole float64) string { return strconv.FormatFloat(part/whole, 'g', 6, 64) }
	var b strings.Builder
	fmt.Fprintf(&b, "FSG_BEGIN %s\nNUM_STATES %d\nSTART_STATE %d\nFINAL_STATE %d\n", name, len(g.nodes), g.root.id, final)
	for _, n := range g.nodes {
		keys := make([]string, 0, len(n.next))
		for w := range n.next {
			keys = append(keys, w)
		}
		sort.Strings(keys)
		for _, w := range keys {
			fmt.Fprintf(&b, "TRANSITION %d %d %s %s\n", n.id, n.next[w].id, prob(paths[n.next[w].id], paths[n.id]), w)
		}
		if n.end && n.id != final {
			fmt.Fprintf(&b, "TRANSITION %d %d %s\n", n.id, final, prob(1, paths[n.id]))
		}
	}
	b.WriteString("FSG_END\n")
	return b.String()
}
