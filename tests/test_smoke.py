def test_health(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_world(client, world):
    response = client.get("/api/v1/patients", headers=world.clinician.headers)
    assert response.status_code == 200
    assert [p["name"] for p in response.json["items"]] == ["Pat Able"]
