from tests.graphql_client import Api


async def test_book_a_slot_end_to_end(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    assert (await api.lock(slot["id"], patient)).data["lockSlot"]["state"] == "LOCKED"
    booked = (await api.book(slot["id"], patient, reasonForVisit="checkup")).data["bookAppointment"]
    assert booked["status"] == "SCHEDULED"
    assert booked["slot"]["state"] == "BOOKED"
