package dashboard

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyStoreViewReadsTheStore: the pages get their stored data through the Queries interface;
// no file imports database/sql or SQLite (the SQL lives with each store), and only storeview.go
// names *store.DB (but deps.go's check that it is an Audit) or the store's functions
// (store.UseLink, telemetry.StorageForecast).
func TestOnlyStoreViewReadsTheStore(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "database/sql" || strings.HasPrefix(p, "github.com/ncruces/go-sqlite3") {
				t.Errorf("%s imports %s: the pages' SQL belongs with the store (backend/store/views.go)", name, p)
			}
		}
		if name == "storeview.go" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok {
				switch x.Name + "." + sel.Sel.Name {
				case "store.DB":
					if name == "deps.go" { // the check that the real services satisfy the interfaces
						return true
					}
					fallthrough
				case "store.UseLink", "store.CreateLink", "telemetry.StorageForecast":
					t.Errorf("%s: %s uses %s.%s: reach the store through Queries (storeview.go)", name, fset.Position(sel.Pos()), x.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("checked %d files: run from the package's folder", checked)
	}
}
