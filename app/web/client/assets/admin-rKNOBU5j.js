import{r as e}from"./rolldown-runtime-XKyaHtl9.js";import{i as t,t as n}from"./react-C1iE8mnY.js";import{h as r,v as i,y as a}from"./index-6NTG44RM.js";var o=e(t(),1);function s(e,t,n=!1){return new Intl.DateTimeFormat(void 0,{timeZone:t,hour:`2-digit`,minute:`2-digit`,second:n?`2-digit`:void 0,hourCycle:`h23`}).format(new Date(e))}function c(){let e=Intl.supportedValuesOf?.(`timeZone`)??[];return e.includes(`UTC`)?e:[`UTC`,...e]}var l=864e5;function u(e,t){return e!=null&&Date.parse(e)+l>t}var d=[`MONDAY`,`TUESDAY`,`WEDNESDAY`,`THURSDAY`,`FRIDAY`,`SATURDAY`,`SUNDAY`],f=`
  id date startTime endTime startsAt state
  doctor { id }
  lock { expiresAt patient { id name email } }
`,p=`
  id status appointmentDate appointmentTime endTime reasonForVisit notes startsAt checkedInAt noShowAt
  patient { id name email phone }
  doctor { id name timezone }
  slot { id }
`,m=i`
  query AdminBoardDoctors($date: Date!) {
    doctors {
      id name timezone
      specialty { id name }
      daySlots(date: $date) { ${f} }
    }
  }
`,h=i`
  query DayAppointments($date: Date!, $doctorId: ID, $after: String) {
    appointments(from: $date, to: $date, doctorId: $doctorId, first: 100, after: $after) {
      edges { node { ${p} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,g=i`
  subscription AdminSlotEvents($date: Date!) {
    slotUpdates(date: $date) {
      kind at
      slot { ${f} }
    }
  }
`,_=i`
  subscription AppointmentEvents($doctorId: ID) {
    appointmentUpdates(doctorId: $doctorId) {
      kind at
      appointment { ${p} }
    }
  }
`,v=i`
  subscription EmergencyRequests {
    emergencyRequests {
      id message createdAt
      patient { id name email phone }
      specialty { id name }
      doctor { id name }
    }
  }
`,y=i`
  subscription StaffEventsMissed {
    eventsMissed { at reason }
  }
`,b=i`
  query AdminSpecialties {
    specialties(includeInactive: true) { id name description isActive }
  }
`,x=i`
  mutation CreateSpecialty($input: SpecialtyInput!) {
    createSpecialty(input: $input) { id name description isActive }
  }
`,S=i`
  mutation UpdateSpecialty($id: ID!, $input: SpecialtyUpdateInput!) {
    updateSpecialty(id: $id, input: $input) { id name description isActive }
  }
`,C=`
  id name email phone licenseNumber consultationFee timezone isActive
  minNoticeMinutes maxDaysAhead updatedAt slotsRegeneratingFrom
  specialty { id name }
`,w=i`
  query AdminDoctors {
    doctors(includeInactive: true) { ${C} }
  }
`,T=i`
  mutation CreateDoctor($input: DoctorInput!) {
    createDoctor(input: $input) { ${C} }
  }
`,E=i`
  mutation UpdateDoctor($id: ID!, $input: DoctorUpdateInput!) {
    updateDoctor(id: $id, input: $input) { ${C} }
  }
`,D=i`
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
`,O=`
  slotsAdded slotsRemoved horizonEnd
  conflicts { id appointmentDate appointmentTime patient { id name } }
`,k=i`
  mutation SetSchedule($doctorId: ID!, $input: ScheduleInput!) {
    setSchedule(doctorId: $doctorId, input: $input) { ${O} }
  }
`,A=i`
  mutation SetDateOverride($doctorId: ID!, $date: Date!, $ranges: [TimeRangeInput!]!, $reason: String) {
    setDateOverride(doctorId: $doctorId, date: $date, ranges: $ranges, reason: $reason) { ${O} }
  }
`,j=i`
  mutation ClearDateOverride($doctorId: ID!, $date: Date!) {
    clearDateOverride(doctorId: $doctorId, date: $date) { ${O} }
  }
`,M=i`
  mutation UpdateAppointmentStatus($id: ID!, $status: AppointmentStatus!, $notes: String) {
    updateAppointmentStatus(id: $id, status: $status, notes: $notes) { ${p} }
  }
`,N=i`
  mutation CheckInVisit($id: ID!) {
    checkInAppointment(id: $id) { ${p} }
  }
`,P=i`
  query StaffMe {
    me { id name role timezone doctor { id name timezone specialty { name } } }
  }
`,F=`id kind channel status subject recipient attempts lastError createdAt sentAt`,I=i`
  query FailedDeliveries($after: String) {
    notificationDeliveries(status: FAILED, first: 50, after: $after) {
      edges { node { ${F} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,L=i`
  mutation RetryDelivery($id: ID!) {
    retryNotification(id: $id) { ${F} }
  }
`,R=1600;function z(){let e=window;return window.AudioContext??e.webkitAudioContext}var B=class{context=null;timer=null;async start(){let e=z();if(!e)return!1;if(this.context??=new e,this.context.state===`suspended`)try{await this.context.resume()}catch{}return this.timer===null&&(this.beep(),this.timer=setInterval(()=>this.beep(),R)),this.context.state===`running`}stop(){this.timer!==null&&clearInterval(this.timer),this.timer=null}beep(){let e=this.context;if(!e||e.state!==`running`)return;let t=e.currentTime;[880,660].forEach((n,r)=>{let i=e.createOscillator(),a=e.createGain();i.type=`square`,i.frequency.value=n;let o=t+r*.25;a.gain.setValueAtTime(1e-4,o),a.gain.exponentialRampToValueAtTime(.2,o+.02),a.gain.exponentialRampToValueAtTime(1e-4,o+.22),i.connect(a).connect(e.destination),i.start(o),i.stop(o+.24)})}},V=[500,1e3,2e3,5e3,1e4];function H(e,t,n){let i=r(),a=(0,o.useRef)(n);a.current=n;let[s,c]=(0,o.useState)(`live`),[l,u]=(0,o.useState)(0),d=JSON.stringify(t);return(0,o.useEffect)(()=>{if(n.pause)return;let t,r=!1;l>0&&(c(`live`),a.current.onResubscribe?.());let o=i.subscription(e,JSON.parse(d)).subscribe(e=>{if(e.error){if(r)return;r=!0,c(`retrying`);let e=V[Math.min(l,V.length-1)];t=setTimeout(()=>u(e=>e+1),e)}else e.data&&(c(`live`),a.current.onEvent(e.data))});return()=>{t&&clearTimeout(t),o.unsubscribe()}},[i,e,d,l,n.pause]),s}var U=n(),W={},G=Intl.DateTimeFormat().resolvedOptions().timeZone;function K({showLog:e=!0}){let[t,n]=(0,o.useState)([]),[r,i]=(0,o.useState)([]),[c,l]=(0,o.useState)(`off`),u=(0,o.useRef)(null),d=(0,o.useMemo)(()=>new B,[]),f=a();H(v,W,{onEvent:({emergencyRequests:e})=>{n(t=>t.some(t=>t.id===e.id)?t:[...t,e]),f(`Emergency request from ${e.patient.name}: ${e.message}`,{assertive:!0})}});let[p,m]=(0,o.useState)(null);H(y,W,{onEvent:({eventsMissed:e})=>m(e.at)});let h=t[0];return(0,o.useEffect)(()=>{let e=u.current;e&&(h&&!e.open&&e.showModal(),!h&&e.open&&e.close())},[h]),(0,o.useEffect)(()=>{if(!h){d.stop(),l(`off`);return}let e=!1;d.start().then(t=>{e||l(t?`playing`:`blocked`)});let t=document.title;return document.title=`EMERGENCY - ${t}`,()=>{e=!0,document.title=t}},[h,d]),(0,o.useEffect)(()=>()=>d.stop(),[d]),(0,U.jsxs)(U.Fragment,{children:[(0,U.jsx)(`dialog`,{ref:u,className:`emergency-dialog`,role:`alertdialog`,"aria-modal":`true`,"aria-labelledby":`emergency-title`,"aria-describedby":`emergency-message`,"data-testid":`emergency-alert`,"data-emergency-id":h?.id,"data-sound":c,onCancel:e=>e.preventDefault(),children:h&&(0,U.jsxs)(`div`,{className:`emergency-body`,children:[(0,U.jsx)(`h2`,{id:`emergency-title`,children:`Emergency request`}),(0,U.jsx)(`p`,{id:`emergency-message`,className:`emergency-message`,children:h.message}),(0,U.jsxs)(`dl`,{className:`emergency-facts`,children:[(0,U.jsx)(`dt`,{children:`Patient`}),(0,U.jsxs)(`dd`,{children:[h.patient.name,h.patient.phone?`, ${h.patient.phone}`:``,h.patient.email?` (${h.patient.email})`:``]}),h.specialty&&(0,U.jsxs)(U.Fragment,{children:[(0,U.jsx)(`dt`,{children:`Specialty`}),(0,U.jsx)(`dd`,{children:h.specialty.name})]}),h.doctor&&(0,U.jsxs)(U.Fragment,{children:[(0,U.jsx)(`dt`,{children:`Doctor`}),(0,U.jsx)(`dd`,{children:h.doctor.name})]}),(0,U.jsx)(`dt`,{children:`Sent`}),(0,U.jsxs)(`dd`,{children:[s(h.createdAt,G,!0),` (`,G,`)`]})]}),t.length>1&&(0,U.jsxs)(`p`,{className:`emergency-more`,children:[t.length-1,` more waiting`]}),(0,U.jsxs)(`div`,{className:`emergency-actions`,children:[c===`blocked`&&(0,U.jsx)(`button`,{type:`button`,onClick:()=>void d.start().then(e=>l(e?`playing`:`blocked`)),children:`Turn on the alarm sound`}),(0,U.jsx)(`button`,{type:`button`,className:`primary`,autoFocus:!0,onClick:()=>{h&&(i(e=>[{emergency:h,acknowledgedAt:new Date().toISOString()},...e].slice(0,20)),n(e=>e.slice(1)))},"data-testid":`acknowledge-emergency`,children:`Acknowledge`})]})]})}),e&&(0,U.jsxs)(`section`,{className:`panel emergency-log`,"aria-labelledby":`emergency-log-title`,children:[(0,U.jsx)(`h2`,{id:`emergency-log-title`,children:`Emergencies`}),p&&(0,U.jsxs)(`p`,{role:`status`,className:`warning`,"data-testid":`emergencies-maybe-missed`,children:[`Live updates were interrupted at `,s(p,G),` (`,G,`): an emergency request sent then may not have reached this screen.`]}),r.length===0?(0,U.jsx)(`p`,{className:`muted`,children:`None since this page was opened.`}):(0,U.jsx)(`ul`,{"data-testid":`emergency-log`,children:r.map(({emergency:e,acknowledgedAt:t})=>(0,U.jsxs)(`li`,{"data-emergency-id":e.id,children:[(0,U.jsx)(`strong`,{children:e.patient.name}),`: `,e.message,` `,(0,U.jsxs)(`span`,{className:`muted`,children:[`acknowledged `,s(t,G),` (`,G,`)`]})]},e.id))})]})]})}var q=20;async function J(e,t,n=null){let r=[],i=null;for(let a=0;a<q;a+=1){let a=await e.query(h,{date:t,doctorId:n,after:i},{requestPolicy:`network-only`}).toPromise();if(a.error)throw a.error;let o=a.data.appointments;if(r.push(...o.edges.map(e=>e.node)),!o.pageInfo.hasNextPage)break;i=o.pageInfo.endCursor}return r}export{d as C,u as E,M as S,c as T,k as _,m as a,E as b,T as c,y as d,I as f,A as g,L as h,_ as i,x as l,P as m,K as n,N as o,w as p,H as r,j as s,J as t,D as u,g as v,s as w,S as x,b as y};