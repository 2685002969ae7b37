package httpapi

import "sync"

// Route is one route of the server's mux: its "METHOD /path" pattern and the key scope it
// requires ("" for any valid key). Public routes are served without a key.
type Route struct {
	Pattern string
	Scope   string
	Public  bool
}

// routeScopes records, for each pattern registered through New's route (behind authorize), its
// scope. The table is the same for every server.
var routeScopes sync.Map // pattern -> scope

func noteRoute(pattern, scope string) { routeScopes.Store(pattern, scope) }

// RouteTable lists the routes the server registered on its mux, in order, each with the scope
// authorize checks; a route registered without authorize is Public. The auth tests are generated
// from it, so a route added without a key check, or with another scope, fails them.
func (s *Server) RouteTable() []Route {
	out := make([]Route, 0, len(s.routes))
	for _, p := range s.routes {
		r := Route{Pattern: p, Public: true}
		if sc, ok := routeScopes.Load(p); ok {
			r.Scope, r.Public = sc.(string), false
		}
		out = append(out, r)
	}
	return out
}
