// Reading a whole day of appointments, for the admin board and the doctor's day.
import type { Client, OperationResult } from 'urql';
import { DAY_APPOINTMENTS, type AppointmentPage, type BoardAppointment } from './operations';

const MAX_PAGES = 20;

/** Every appointment of the date, following the connection's cursors. */
export async function dayAppointments(
  client: Client,
  date: string,
  doctorId: string | null = null,
): Promise<BoardAppointment[]> {
  const found: BoardAppointment[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result: OperationResult<AppointmentPage> = await client
      .query(DAY_APPOINTMENTS, { date, doctorId, after }, { requestPolicy: 'network-only' })
      .toPromise();
    if (result.error) throw result.error;
    const connection: AppointmentPage['appointments'] = result.data!.appointments;
    found.push(...connection.edges.map((edge) => edge.node));
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  return found;
}
