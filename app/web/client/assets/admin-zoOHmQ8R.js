import{r as e}from"./rolldown-runtime-XKyaHtl9.js";import{i as t,t as n}from"./react-C1iE8mnY.js";import{h as r,v as i,y as a}from"./index-cULKmXKQ.js";var o=e(t(),1);function s(e,t,n=!1){return new Intl.DateTimeFormat(void 0,{timeZone:t,hour:`2-digit`,minute:`2-digit`,second:n?`2-digit`:void 0,hourCycle:`h23`}).format(new Date(e))}function c(){let e=Intl.supportedValuesOf?.(`timeZone`)??[];return e.includes(`UTC`)?e:[`UTC`,...e]}var l=[`MONDAY`,`TUESDAY`,`WEDNESDAY`,`THURSDAY`,`FRIDAY`,`SATURDAY`,`SUNDAY`],u=`
  id date startTime endTime startsAt state
  doctor { id }
  lock { expiresAt patient { id name email } }
`,d=`
  id status appointmentDate appointmentTime endTime reasonForVisit notes startsAt checkedInAt noShowAt
  patient { id name email phone }
  doctor { id name timezone }
  slot { id }
`,f=i`
  query AdminBoardDoctors($date: Date!) {
    doctors {
      id name timezone
      specialty { id name }
      daySlots(date: $date) { ${u} }
    }
  }
`,p=i`
  query DayAppointments($date: Date!, $doctorId: ID, $after: String) {
    appointments(from: $date, to: $date, doctorId: $doctorId, first: 100, after: $after) {
      edges { node { ${d} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,m=i`
  subscription AdminSlotEvents($date: Date!) {
    slotUpdates(date: $date) {
      kind at
      slot { ${u} }
    }
  }
`,h=i`
  subscription AppointmentEvents($doctorId: ID) {
    appointmentUpdates(doctorId: $doctorId) {
      kind at
      appointment { ${d} }
    }
  }
`,g=i`
  subscription EmergencyRequests {
    emergencyRequests {
      id message createdAt
      patient { id name email phone }
      specialty { id name }
      doctor { id name }
    }
  }
`,_=i`
  subscription StaffEventsMissed {
    eventsMissed { at reason }
  }
`,v=i`
  query AdminSpecialties {
    specialties(includeInactive: true) { id name description isActive }
  }
`,y=i`
  mutation CreateSpecialty($input: SpecialtyInput!) {
    createSpecialty(input: $input) { id name description isActive }
  }
`,b=i`
  mutation UpdateSpecialty($id: ID!, $input: SpecialtyUpdateInput!) {
    updateSpecialty(id: $id, input: $input) { id name description isActive }
  }
`,x=`
  id name email phone licenseNumber consultationFee timezone isActive
  minNoticeMinutes maxDaysAhead updatedAt
  specialty { id name }
`,S=i`
  query AdminDoctors {
    doctors(includeInactive: true) { ${x} }
  }
`,C=i`
  mutation CreateDoctor($input: DoctorInput!) {
    createDoctor(input: $input) { ${x} }
  }
`,w=i`
  mutation UpdateDoctor($id: ID!, $input: DoctorUpdateInput!) {
    updateDoctor(id: $id, input: $input) { ${x} }
  }
`,T=i`
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
`,E=`
  slotsAdded slotsRemoved horizonEnd
  conflicts { id appointmentDate appointmentTime patient { id name } }
`,D=i`
  mutation SetSchedule($doctorId: ID!, $input: ScheduleInput!) {
    setSchedule(doctorId: $doctorId, input: $input) { ${E} }
  }
`,O=i`
  mutation SetDateOverride($doctorId: ID!, $date: Date!, $ranges: [TimeRangeInput!]!, $reason: String) {
    setDateOverride(doctorId: $doctorId, date: $date, ranges: $ranges, reason: $reason) { ${E} }
  }
`,k=i`
  mutation ClearDateOverride($doctorId: ID!, $date: Date!) {
    clearDateOverride(doctorId: $doctorId, date: $date) { ${E} }
  }
`,A=i`
  mutation UpdateAppointmentStatus($id: ID!, $status: AppointmentStatus!, $notes: String) {
    updateAppointmentStatus(id: $id, status: $status, notes: $notes) { ${d} }
  }
`,j=i`
  mutation CheckInVisit($id: ID!) {
    checkInAppointment(id: $id) { ${d} }
  }
`,M=i`
  query StaffMe {
    me { id name role timezone doctor { id name timezone specialty { name } } }
  }
`,N=`id kind channel status subject recipient attempts lastError createdAt sentAt`,P=i`
  query FailedDeliveries($after: String) {
    notificationDeliveries(status: FAILED, first: 50, after: $after) {
      edges { node { ${N} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,F=i`
  mutation RetryDelivery($id: ID!) {
    retryNotification(id: $id) { ${N} }
  }
`,I=1600;function L(){let e=window;return window.AudioContext??e.webkitAudioContext}var R=class{context=null;timer=null;async start(){let e=L();if(!e)return!1;if(this.context??=new e,this.context.state===`suspended`)try{await this.context.resume()}catch{}return this.timer===null&&(this.beep(),this.timer=setInterval(()=>this.beep(),I)),this.context.state===`running`}stop(){this.timer!==null&&clearInterval(this.timer),this.timer=null}beep(){let e=this.context;if(!e||e.state!==`running`)return;let t=e.currentTime;[880,660].forEach((n,r)=>{let i=e.createOscillator(),a=e.createGain();i.type=`square`,i.frequency.value=n;let o=t+r*.25;a.gain.setValueAtTime(1e-4,o),a.gain.exponentialRampToValueAtTime(.2,o+.02),a.gain.exponentialRampToValueAtTime(1e-4,o+.22),i.connect(a).connect(e.destination),i.start(o),i.stop(o+.24)})}},z=[500,1e3,2e3,5e3,1e4];function B(e,t,n){let i=r(),a=(0,o.useRef)(n);a.current=n;let[s,c]=(0,o.useState)(`live`),[l,u]=(0,o.useState)(0),d=JSON.stringify(t);return(0,o.useEffect)(()=>{if(n.pause)return;let t,r=!1;l>0&&(c(`live`),a.current.onResubscribe?.());let o=i.subscription(e,JSON.parse(d)).subscribe(e=>{if(e.error){if(r)return;r=!0,c(`retrying`);let e=z[Math.min(l,z.length-1)];t=setTimeout(()=>u(e=>e+1),e)}else e.data&&(c(`live`),a.current.onEvent(e.data))});return()=>{t&&clearTimeout(t),o.unsubscribe()}},[i,e,d,l,n.pause]),s}var V=n(),H={},U=Intl.DateTimeFormat().resolvedOptions().timeZone;function W({showLog:e=!0}){let[t,n]=(0,o.useState)([]),[r,i]=(0,o.useState)([]),[c,l]=(0,o.useState)(`off`),u=(0,o.useRef)(null),d=(0,o.useMemo)(()=>new R,[]),f=a();B(g,H,{onEvent:({emergencyRequests:e})=>{n(t=>t.some(t=>t.id===e.id)?t:[...t,e]),f(`Emergency request from ${e.patient.name}: ${e.message}`,{assertive:!0})}});let[p,m]=(0,o.useState)(null);B(_,H,{onEvent:({eventsMissed:e})=>m(e.at)});let h=t[0];return(0,o.useEffect)(()=>{let e=u.current;e&&(h&&!e.open&&e.showModal(),!h&&e.open&&e.close())},[h]),(0,o.useEffect)(()=>{if(!h){d.stop(),l(`off`);return}let e=!1;d.start().then(t=>{e||l(t?`playing`:`blocked`)});let t=document.title;return document.title=`EMERGENCY - ${t}`,()=>{e=!0,document.title=t}},[h,d]),(0,o.useEffect)(()=>()=>d.stop(),[d]),(0,V.jsxs)(V.Fragment,{children:[(0,V.jsx)(`dialog`,{ref:u,className:`emergency-dialog`,role:`alertdialog`,"aria-modal":`true`,"aria-labelledby":`emergency-title`,"aria-describedby":`emergency-message`,"data-testid":`emergency-alert`,"data-emergency-id":h?.id,"data-sound":c,onCancel:e=>e.preventDefault(),children:h&&(0,V.jsxs)(`div`,{className:`emergency-body`,children:[(0,V.jsx)(`h2`,{id:`emergency-title`,children:`Emergency request`}),(0,V.jsx)(`p`,{id:`emergency-message`,className:`emergency-message`,children:h.message}),(0,V.jsxs)(`dl`,{className:`emergency-facts`,children:[(0,V.jsx)(`dt`,{children:`Patient`}),(0,V.jsxs)(`dd`,{children:[h.patient.name,h.patient.phone?`, ${h.patient.phone}`:``,h.patient.email?` (${h.patient.email})`:``]}),h.specialty&&(0,V.jsxs)(V.Fragment,{children:[(0,V.jsx)(`dt`,{children:`Specialty`}),(0,V.jsx)(`dd`,{children:h.specialty.name})]}),h.doctor&&(0,V.jsxs)(V.Fragment,{children:[(0,V.jsx)(`dt`,{children:`Doctor`}),(0,V.jsx)(`dd`,{children:h.doctor.name})]}),(0,V.jsx)(`dt`,{children:`Sent`}),(0,V.jsxs)(`dd`,{children:[s(h.createdAt,U,!0),` (`,U,`)`]})]}),t.length>1&&(0,V.jsxs)(`p`,{className:`emergency-more`,children:[t.length-1,` more waiting`]}),(0,V.jsxs)(`div`,{className:`emergency-actions`,children:[c===`blocked`&&(0,V.jsx)(`button`,{type:`button`,onClick:()=>void d.start().then(e=>l(e?`playing`:`blocked`)),children:`Turn on the alarm sound`}),(0,V.jsx)(`button`,{type:`button`,className:`primary`,autoFocus:!0,onClick:()=>{h&&(i(e=>[{emergency:h,acknowledgedAt:new Date().toISOString()},...e].slice(0,20)),n(e=>e.slice(1)))},"data-testid":`acknowledge-emergency`,children:`Acknowledge`})]})]})}),e&&(0,V.jsxs)(`section`,{className:`panel emergency-log`,"aria-labelledby":`emergency-log-title`,children:[(0,V.jsx)(`h2`,{id:`emergency-log-title`,children:`Emergencies`}),p&&(0,V.jsxs)(`p`,{role:`status`,className:`warning`,"data-testid":`emergencies-maybe-missed`,children:[`Live updates were interrupted at `,s(p,U),` (`,U,`): an emergency request sent then may not have reached this screen.`]}),r.length===0?(0,V.jsx)(`p`,{className:`muted`,children:`None since this page was opened.`}):(0,V.jsx)(`ul`,{"data-testid":`emergency-log`,children:r.map(({emergency:e,acknowledgedAt:t})=>(0,V.jsxs)(`li`,{"data-emergency-id":e.id,children:[(0,V.jsx)(`strong`,{children:e.patient.name}),`: `,e.message,` `,(0,V.jsxs)(`span`,{className:`muted`,children:[`acknowledged `,s(t,U),` (`,U,`)`]})]},e.id))})]})]})}var G=20;async function K(e,t,n=null){let r=[],i=null;for(let a=0;a<G;a+=1){let a=await e.query(p,{date:t,doctorId:n,after:i},{requestPolicy:`network-only`}).toPromise();if(a.error)throw a.error;let o=a.data.appointments;if(r.push(...o.edges.map(e=>e.node)),!o.pageInfo.hasNextPage)break;i=o.pageInfo.endCursor}return r}export{l as C,A as S,c as T,D as _,f as a,w as b,C as c,_ as d,P as f,O as g,F as h,h as i,y as l,M as m,W as n,j as o,S as p,B as r,k as s,K as t,T as u,m as v,s as w,b as x,v as y};