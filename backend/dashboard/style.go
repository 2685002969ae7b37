package dashboard

// css is the dashboard's whole style sheet, inline (no request for assets; the CSP allows inline
// styles only). Light and dark follow the OS; sizes are relative so the pages read at kiosk and
// laptop sizes.
const css = `
:root{--bg:#fbfbfd;--fg:#1c1d21;--muted:#5d6270;--card:#fff;--line:#dfe1e7;--accent:#2458d6;--ok:#177245;--warn:#9a5b00;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--bg:#121317;--fg:#e8e9ee;--muted:#a3a8b5;--card:#1b1d23;--line:#2e313a;--accent:#8fb0ff;--ok:#5fd39a;--warn:#f0b35a;--bad:#ff8a80}}
*{box-sizing:border-box}body{margin:0;font:1rem/1.5 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
.top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.75rem 1.25rem;border-bottom:1px solid var(--line);background:var(--card)}
.brand{font-weight:700;color:var(--fg);text-decoration:none;margin-right:1rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem}nav a{padding:.4rem .7rem;border-radius:.4rem;color:var(--fg);text-decoration:none}
nav a[aria-current=page]{background:var(--accent);color:var(--bg)}nav a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.signout{margin-left:auto}main{padding:1.25rem;max-width:80rem;margin:0 auto}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}main>section,main>table,main>form{margin-bottom:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:1rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}dt{color:var(--muted)}dd{margin:0}
table{width:100%;border-collapse:collapse;background:var(--card)}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
input,button,textarea{font:inherit;padding:.45rem .7rem;border-radius:.4rem;border:1px solid var(--line);background:var(--card);color:var(--fg)}
button{background:var(--accent);color:var(--bg);border-color:var(--accent);cursor:pointer}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:1rem}.filters label{display:flex;gap:.3rem;align-items:center}select{font:inherit;padding:.4rem;border-radius:.4rem;border:1px solid var(--line);background:var(--card);color:var(--fg)}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad,.error{color:var(--bad)}
.transcript{list-style:none;padding:0}.msg{margin:.5rem 0;padding:.6rem .8rem;border-radius:.6rem;border:1px solid var(--line);background:var(--card)}
.msg.bot{margin-left:2rem}.msg.repair{border-color:var(--warn)}.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;border:1px solid var(--accent);color:var(--accent);font-size:.8rem}.badge.repair{border-color:var(--warn);color:var(--warn)}.who{font-weight:600;margin-right:.5rem}.meta{display:block;color:var(--muted);font-size:.875rem}
.errors code{white-space:pre-wrap}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem;margin:1rem 0}.charts figure{margin:0;overflow-x:auto}
.charts svg{max-width:100%;height:auto;background:#fff;border-radius:.4rem}.ranges{margin-bottom:1rem}.ranges a{border:1px solid var(--line)}
form.inline{display:inline}button.danger{background:var(--bad);border-color:var(--bad)}
.newkey{display:grid;gap:.4rem;max-width:32rem;margin-top:1.5rem}fieldset{border:1px solid var(--line);border-radius:.4rem}fieldset label{margin-right:1rem}
code.key{font-size:1.1rem;word-break:break-all}
.tabs{margin-bottom:1rem}.tabs a{border:1px solid var(--line)}.logs code{white-space:pre-wrap;word-break:break-word}.logs .log-error td:nth-child(2){color:var(--bad)}.logs .log-warn td:nth-child(2){color:var(--warn)}
.teachq h2{font-size:1.1rem;margin:0 0 .25rem}.teachq form{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.4rem 0}
.teachq .newkey{display:grid;margin-top:.4rem}.teachq .newkey label{display:grid;gap:.2rem}.teachq .newkey button{justify-self:start}.teachq details{margin:.4rem 0}button.secondary{background:var(--card);color:var(--fg);border-color:var(--line)}.created img{background:#fff;padding:.5rem;border-radius:.4rem}
`
