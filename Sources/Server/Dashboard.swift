import FlyingFox
import Foundation

extension APIServer {
    /// The dashboard: one self-contained page (no external assets) that polls the JSON API.
    public static func dashboardRoutes() -> [Route] {
        [Route("GET", "/") { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: Data(dashboardHTML.utf8))
        }]
    }

    static let dashboardHTML = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SWE-JEPA Store</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
 header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:baseline}
 header h1{font-size:18px;margin:0} header span{opacity:.7}
 main{display:grid;grid-template-columns:1fr 1fr;gap:16px;padding:16px}
 section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002;min-width:0}
 h2{font-size:15px;margin:0 0 8px} table{border-collapse:collapse;width:100%} td,th{padding:3px 6px;text-align:left;border-bottom:1px solid #eee;white-space:nowrap}
 th{font-weight:600;color:#556} .num{text-align:right;font-variant-numeric:tabular-nums}
 .bar{background:#e4e7ee;border-radius:4px;height:8px;width:120px;display:inline-block;vertical-align:middle}
 .bar i{display:block;height:8px;border-radius:4px;background:#3b82f6}
 .succeeded{color:#15803d}.failed{color:#b91c1c}.running{color:#1d4ed8}.cancelled{color:#777}.queued{color:#a16207}
 tr.job{cursor:pointer} tr.job:hover{background:#f0f4ff} #chart{width:100%;height:220px}
 input,select,button{font:inherit;padding:3px 6px} .wide{grid-column:1 / span 2} .muted{color:#778} code{font-size:12px}
 pre{white-space:pre-wrap;max-height:180px;overflow:auto;background:#f6f7f9;padding:6px;margin:6px 0 0}
</style></head><body>
<header><h1>SWE-JEPA Store</h1><span id="ver"></span><span id="up"></span></header>
<main>
<section><h2>Store</h2><table id="stats"></table></section>
<section><h2>Spaces</h2><table id="spaces"><tr><th>name</th><th>kind</th><th class="num">dim</th><th class="num">vectors</th><th class="num">stale</th></tr></table></section>
<section class="wide"><h2>Jobs <span class="muted">(click one for its metrics and log)</span></h2>
<table id="jobs"><tr><th>id</th><th>type</th><th>state</th><th>progress</th><th>message</th><th class="num">attempt</th><th>updated</th><th></th></tr></table></section>
<section class="wide" id="detail" hidden><h2 id="dtitle"></h2>
 <div>metric <select id="metric"></select></div><canvas id="chart"></canvas><pre id="log"></pre></section>
<section class="wide"><h2>Nearest functions</h2>
 <div>space <select id="sspace"></select> function id <input id="fid" size="8"> k <input id="k" value="10" size="3">
 <label><input type="checkbox" id="xrepo" checked> other repositories only</label> <button id="go">search</button></div>
 <table id="hits"></table></section>
</main>
<script>
const $=id=>document.getElementById(id), esc=s=>String(s??'').replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
// A server started with --auth reads needs its token for every API call: asked for once on a 401,
// kept in sessionStorage (this tab only) and sent as a bearer token by every call of the page.
const _fetch=window.fetch.bind(window);
window.fetch=async(p,o={})=>{const go=()=>{const t=sessionStorage.getItem('swejepa_token');return _fetch(p,t?{...o,headers:{...(o.headers||{}),Authorization:'Bearer '+t}}:o)};
 let r=await go();if(r.status==401&&!window._declined){const t=prompt('This server needs its access token (kept for this tab only):');if(t&&t.trim()){sessionStorage.setItem('swejepa_token',t.trim());r=await go()}else window._declined=true}return r};
async function get(p){const r=await fetch(p);if(!r.ok)throw new Error((await r.json()).error?.message||r.status);return r.json()}
let current=null;
async function refresh(){
 try{
  const s=await get('/v1/stats');$('ver').textContent='v'+s.version+' · '+s.backend;$('up').textContent='up '+Math.round(s.uptime_seconds)+' s';
  const st=s.store;$('stats').innerHTML=[['repositories',st.repositories],['functions',st.functions],['duplicate groups',st.duplicate_groups],['spaces',st.spaces],['vectors',st.vectors],['database',(st.database_bytes/1048576).toFixed(1)+' MiB'],['jobs',Object.entries(st.jobs).map(([k,v])=>k+' '+v).join(', ')||'none']].map(([k,v])=>`<tr><th>${k}</th><td class="num">${esc(v)}</td></tr>`).join('');
  const sp=(await get('/v1/spaces')).spaces;
  $('spaces').innerHTML='<tr><th>name</th><th>kind</th><th class="num">dim</th><th class="num">vectors</th><th class="num">stale</th></tr>'+sp.map(x=>`<tr><td><code>${esc(x.name)}</code></td><td>${x.kind}</td><td class="num">${x.dim}</td><td class="num">${x.count}</td><td class="num">${x.stale}</td></tr>`).join('');
  const sel=$('sspace'),was=sel.value;sel.innerHTML=sp.filter(x=>x.kind!='sig_tokens').map(x=>`<option>${esc(x.name)}</option>`).join('');if(was)sel.value=was;
  const jobs=(await get('/v1/jobs?limit=30')).jobs;
  $('jobs').innerHTML='<tr><th>id</th><th>type</th><th>state</th><th>progress</th><th>message</th><th class="num">attempt</th><th>updated</th><th></th></tr>'+jobs.map(j=>`<tr class="job" data-id="${j.id}"><td>${j.id}</td><td>${j.type}</td><td class="${j.state}">${j.state}</td><td><span class="bar"><i style="width:${(j.progress*100).toFixed(0)}%"></i></span> ${(j.progress*100).toFixed(0)}%</td><td>${esc(j.error||j.message).slice(0,80)}</td><td class="num">${j.attempt}/${j.max_attempts}</td><td>${new Date(j.updated_at*1000).toLocaleTimeString()}</td><td>${j.state=='running'||j.state=='queued'?`<button data-cancel="${j.id}">cancel</button>`:''}</td></tr>`).join('');
  if(current)showJob(current,false);
 }catch(e){console.error(e)}
}
$('jobs').onclick=async e=>{const c=e.target.dataset.cancel;if(c){await fetch(`/v1/jobs/${c}/cancel`,{method:'POST'});refresh();return}
 const tr=e.target.closest('tr.job');if(tr)showJob(+tr.dataset.id,true)};
async function showJob(id,reset){
 current=id;const j=await get('/v1/jobs/'+id),m=await get(`/v1/jobs/${id}/metrics`),l=await get(`/v1/jobs/${id}/logs?limit=200`);
 $('detail').hidden=false;$('dtitle').textContent=`Job ${id}: ${j.type} (${j.state})`;
 const names=Object.keys(m.series),sel=$('metric'),was=sel.value;sel.innerHTML=names.map(n=>`<option>${esc(n)}</option>`).join('');
 if(was&&names.includes(was)&&!reset)sel.value=was;plot(m.series[sel.value]);
 $('log').textContent=l.logs.map(x=>`${new Date(x.at*1000).toLocaleTimeString()} ${x.level} ${x.message}`).join('\n')+(j.result?'\nresult: '+JSON.stringify(j.result):'');
}
$('metric').onchange=()=>showJob(current,false);
function plot(s){const c=$('chart'),w=c.width=c.clientWidth,h=c.height=220,g=c.getContext('2d');g.clearRect(0,0,w,h);if(!s||!s.values.length)return;
 const xs=s.steps,ys=s.values,x0=Math.min(...xs),x1=Math.max(...xs)||1,y0=Math.min(...ys),y1=Math.max(...ys),sx=x=>40+(w-50)*(x-x0)/((x1-x0)||1),sy=y=>h-20-(h-30)*(y-y0)/((y1-y0)||1);
 g.strokeStyle='#ccd';g.strokeRect(40,10,w-50,h-30);g.fillStyle='#556';g.fillText(y1.toPrecision(4),2,14);g.fillText(y0.toPrecision(4),2,h-20);g.fillText(x0,40,h-5);g.fillText(x1,w-40,h-5);
 g.strokeStyle='#3b82f6';g.beginPath();xs.forEach((x,i)=>i?g.lineTo(sx(x),sy(ys[i])):g.moveTo(sx(x),sy(ys[i])));g.stroke()}
$('go').onclick=async()=>{const space=$('sspace').value,id=+$('fid').value,k=+$('k').value;
 try{const r=await fetch(`/v1/spaces/${encodeURIComponent(space)}/search`,{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify({function_ids:[id],k,exclude_self:true,exclude_same_repo:$('xrepo').checked})});
  const b=await r.json();if(!r.ok)throw new Error(b.error.message);
  $('hits').innerHTML='<tr><th class="num">score</th><th>repo</th><th>path</th><th>function</th><th>signature</th></tr>'+b.results[0].hits.map(h=>`<tr><td class="num">${h.score.toFixed(3)}</td><td>${esc(h.repo)}</td><td>${esc(h.path)}</td><td>${esc(h.qualified_name)} <span class="muted">#${h.id}</span></td><td><code>${esc(h.signature).slice(0,90)}</code></td></tr>`).join('')}
 catch(e){$('hits').innerHTML=`<tr><td class="failed">${esc(e.message)}</td></tr>`}};
refresh();setInterval(refresh,2000);
</script></body></html>
"""#
}
