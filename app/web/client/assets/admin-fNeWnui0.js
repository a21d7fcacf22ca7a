import{r as e}from"./rolldown-runtime-XKyaHtl9.js";import{i as t,t as n}from"./react-C1iE8mnY.js";import{f as r,l as i,n as a,p as o}from"./index-BKYG5wUe.js";var s=e(t(),1);function c(e,t,n=!1){return new Intl.DateTimeFormat(void 0,{timeZone:t,hour:`2-digit`,minute:`2-digit`,second:n?`2-digit`:void 0,hourCycle:`h23`}).format(new Date(e))}function l(){let e=Intl.supportedValuesOf?.(`timeZone`)??[];return e.includes(`UTC`)?e:[`UTC`,...e]}var u=[`MONDAY`,`TUESDAY`,`WEDNESDAY`,`THURSDAY`,`FRIDAY`,`SATURDAY`,`SUNDAY`],d=`
  id date startTime endTime startsAt state
  doctor { id }
  lock { expiresAt patient { id name email } }
`,f=`
  id status appointmentDate appointmentTime endTime reasonForVisit notes
  patient { id name email phone }
  doctor { id name timezone }
  slot { id }
`,p=r`
  query AdminBoardDoctors($date: Date!) {
    doctors {
      id name timezone
      specialty { id name }
      daySlots(date: $date) { ${d} }
    }
  }
`,m=r`
  query DayAppointments($date: Date!, $doctorId: ID, $after: String) {
    appointments(from: $date, to: $date, doctorId: $doctorId, first: 100, after: $after) {
      edges { node { ${f} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,h=r`
  subscription AdminSlotEvents($date: Date!) {
    slotUpdates(date: $date) {
      kind at
      slot { ${d} }
    }
  }
`,g=r`
  subscription AppointmentEvents($doctorId: ID) {
    appointmentUpdates(doctorId: $doctorId) {
      kind at
      appointment { ${f} }
    }
  }
`,_=r`
  subscription EmergencyRequests {
    emergencyRequests {
      id message createdAt
      patient { id name email phone }
      specialty { id name }
      doctor { id name }
    }
  }
`,v=r`
  subscription StaffEventsMissed {
    eventsMissed { at reason }
  }
`,y=r`
  query AdminSpecialties {
    specialties(includeInactive: true) { id name description isActive }
  }
`,b=r`
  mutation CreateSpecialty($input: SpecialtyInput!) {
    createSpecialty(input: $input) { id name description isActive }
  }
`,x=r`
  mutation UpdateSpecialty($id: ID!, $input: SpecialtyUpdateInput!) {
    updateSpecialty(id: $id, input: $input) { id name description isActive }
  }
`,S=`
  id name email phone licenseNumber consultationFee timezone isActive
  minNoticeMinutes maxDaysAhead updatedAt
  specialty { id name }
`,C=r`
  query AdminDoctors {
    doctors(includeInactive: true) { ${S} }
  }
`,w=r`
  mutation CreateDoctor($input: DoctorInput!) {
    createDoctor(input: $input) { ${S} }
  }
`,T=r`
  mutation UpdateDoctor($id: ID!, $input: DoctorUpdateInput!) {
    updateDoctor(id: $id, input: $input) { ${S} }
  }
`,E=r`
  query DoctorSchedule($id: ID!, $from: Date!, $to: Date!) {
    doctor(id: $id) {
      id name timezone
      schedule {
        slotMinutes bufferMinutes validFrom validUntil updatedAt
        weekly { weekday ranges { start end } }
      }
      dateOverrides(from: $from, to: $to) { date reason ranges { start end } }
    }
  }
`,D=`
  slotsAdded slotsRemoved horizonEnd
  conflicts { id appointmentDate appointmentTime patient { id name } }
`,O=r`
  mutation SetSchedule($doctorId: ID!, $input: ScheduleInput!) {
    setSchedule(doctorId: $doctorId, input: $input) { ${D} }
  }
`,k=r`
  mutation SetDateOverride($doctorId: ID!, $date: Date!, $ranges: [TimeRangeInput!]!, $reason: String) {
    setDateOverride(doctorId: $doctorId, date: $date, ranges: $ranges, reason: $reason) { ${D} }
  }
`,A=r`
  mutation ClearDateOverride($doctorId: ID!, $date: Date!) {
    clearDateOverride(doctorId: $doctorId, date: $date) { ${D} }
  }
`,j=r`
  mutation UpdateAppointmentStatus($id: ID!, $status: AppointmentStatus!, $notes: String) {
    updateAppointmentStatus(id: $id, status: $status, notes: $notes) { ${f} }
  }
`,M=r`
  query StaffMe {
    me { id name role doctor { id name timezone specialty { name } } }
  }
`,N=1600;function P(){let e=window;return window.AudioContext??e.webkitAudioContext}var F=class{context=null;timer=null;async start(){let e=P();if(!e)return!1;if(this.context??=new e,this.context.state===`suspended`)try{await this.context.resume()}catch{}return this.timer===null&&(this.beep(),this.timer=setInterval(()=>this.beep(),N)),this.context.state===`running`}stop(){this.timer!==null&&clearInterval(this.timer),this.timer=null}beep(){let e=this.context;if(!e||e.state!==`running`)return;let t=e.currentTime;[880,660].forEach((n,r)=>{let i=e.createOscillator(),a=e.createGain();i.type=`square`,i.frequency.value=n;let o=t+r*.25;a.gain.setValueAtTime(1e-4,o),a.gain.exponentialRampToValueAtTime(.2,o+.02),a.gain.exponentialRampToValueAtTime(1e-4,o+.22),i.connect(a).connect(e.destination),i.start(o),i.stop(o+.24)})}},I=[500,1e3,2e3,5e3,1e4];function L(e,t,n){let r=i(),a=(0,s.useRef)(n);a.current=n;let[o,c]=(0,s.useState)(`live`),[l,u]=(0,s.useState)(0),d=JSON.stringify(t);return(0,s.useEffect)(()=>{if(n.pause)return;let t,i=!1;l>0&&(c(`live`),a.current.onResubscribe?.());let o=r.subscription(e,JSON.parse(d)).subscribe(e=>{if(e.error){if(i)return;i=!0,c(`retrying`);let e=I[Math.min(l,I.length-1)];t=setTimeout(()=>u(e=>e+1),e)}else e.data&&(c(`live`),a.current.onEvent(e.data))});return()=>{t&&clearTimeout(t),o.unsubscribe()}},[r,e,d,l,n.pause]),o}var R=n(),z={},B=Intl.DateTimeFormat().resolvedOptions().timeZone;function V({showLog:e=!0}){let[t,n]=(0,s.useState)([]),[r,i]=(0,s.useState)([]),[a,l]=(0,s.useState)(`off`),u=(0,s.useRef)(null),d=(0,s.useMemo)(()=>new F,[]),f=o();L(_,z,{onEvent:({emergencyRequests:e})=>{n(t=>t.some(t=>t.id===e.id)?t:[...t,e]),f(`Emergency request from ${e.patient.name}: ${e.message}`,{assertive:!0})}});let[p,m]=(0,s.useState)(null);L(v,z,{onEvent:({eventsMissed:e})=>m(e.at)});let h=t[0];return(0,s.useEffect)(()=>{let e=u.current;e&&(h&&!e.open&&e.showModal(),!h&&e.open&&e.close())},[h]),(0,s.useEffect)(()=>{if(!h){d.stop(),l(`off`);return}let e=!1;d.start().then(t=>{e||l(t?`playing`:`blocked`)});let t=document.title;return document.title=`EMERGENCY - ${t}`,()=>{e=!0,document.title=t}},[h,d]),(0,s.useEffect)(()=>()=>d.stop(),[d]),(0,R.jsxs)(R.Fragment,{children:[(0,R.jsx)(`dialog`,{ref:u,className:`emergency-dialog`,role:`alertdialog`,"aria-modal":`true`,"aria-labelledby":`emergency-title`,"aria-describedby":`emergency-message`,"data-testid":`emergency-alert`,"data-emergency-id":h?.id,"data-sound":a,onCancel:e=>e.preventDefault(),children:h&&(0,R.jsxs)(`div`,{className:`emergency-body`,children:[(0,R.jsx)(`h2`,{id:`emergency-title`,children:`Emergency request`}),(0,R.jsx)(`p`,{id:`emergency-message`,className:`emergency-message`,children:h.message}),(0,R.jsxs)(`dl`,{className:`emergency-facts`,children:[(0,R.jsx)(`dt`,{children:`Patient`}),(0,R.jsxs)(`dd`,{children:[h.patient.name,h.patient.phone?`, ${h.patient.phone}`:``,h.patient.email?` (${h.patient.email})`:``]}),h.specialty&&(0,R.jsxs)(R.Fragment,{children:[(0,R.jsx)(`dt`,{children:`Specialty`}),(0,R.jsx)(`dd`,{children:h.specialty.name})]}),h.doctor&&(0,R.jsxs)(R.Fragment,{children:[(0,R.jsx)(`dt`,{children:`Doctor`}),(0,R.jsx)(`dd`,{children:h.doctor.name})]}),(0,R.jsx)(`dt`,{children:`Sent`}),(0,R.jsxs)(`dd`,{children:[c(h.createdAt,B,!0),` (`,B,`)`]})]}),t.length>1&&(0,R.jsxs)(`p`,{className:`emergency-more`,children:[t.length-1,` more waiting`]}),(0,R.jsxs)(`div`,{className:`emergency-actions`,children:[a===`blocked`&&(0,R.jsx)(`button`,{type:`button`,onClick:()=>void d.start().then(e=>l(e?`playing`:`blocked`)),children:`Turn on the alarm sound`}),(0,R.jsx)(`button`,{type:`button`,className:`primary`,autoFocus:!0,onClick:()=>{h&&(i(e=>[{emergency:h,acknowledgedAt:new Date().toISOString()},...e].slice(0,20)),n(e=>e.slice(1)))},"data-testid":`acknowledge-emergency`,children:`Acknowledge`})]})]})}),e&&(0,R.jsxs)(`section`,{className:`panel emergency-log`,"aria-labelledby":`emergency-log-title`,children:[(0,R.jsx)(`h2`,{id:`emergency-log-title`,children:`Emergencies`}),p&&(0,R.jsxs)(`p`,{role:`status`,className:`warning`,"data-testid":`emergencies-maybe-missed`,children:[`Live updates were interrupted at `,c(p,B),` (`,B,`): an emergency request sent then may not have reached this screen.`]}),r.length===0?(0,R.jsx)(`p`,{className:`muted`,children:`None since this page was opened.`}):(0,R.jsx)(`ul`,{"data-testid":`emergency-log`,children:r.map(({emergency:e,acknowledgedAt:t})=>(0,R.jsxs)(`li`,{"data-emergency-id":e.id,children:[(0,R.jsx)(`strong`,{children:e.patient.name}),`: `,e.message,` `,(0,R.jsxs)(`span`,{className:`muted`,children:[`acknowledged `,c(t,B),` (`,B,`)`]})]},e.id))})]})]})}var H=20;async function U(e,t,n=null){let r=[],i=null;for(let a=0;a<H;a+=1){let a=await e.query(m,{date:t,doctorId:n,after:i},{requestPolicy:`network-only`}).toPromise();if(a.error)throw a.error;let o=a.data.appointments;if(r.push(...o.edges.map(e=>e.node)),!o.pageInfo.hasNextPage)break;i=o.pageInfo.endCursor}return r}var W={epoch:0,connected:!1},G=new Set,K=!1;function q(){if(K)return;K=!0;let e=a(),t=e=>{W=e;for(let e of G)e()};e.on(`connected`,()=>t({epoch:W.epoch+1,connected:!0})),e.on(`closed`,()=>t({...W,connected:!1}))}q();function J(e){return G.add(e),()=>G.delete(e)}function Y(){return(0,s.useSyncExternalStore)(J,()=>W)}export{l as C,c as S,y as _,g as a,j as b,w as c,v as d,C as f,h as g,O as h,L as i,b as l,k as m,U as n,p as o,M as p,V as r,A as s,Y as t,E as u,T as v,u as x,x as y};