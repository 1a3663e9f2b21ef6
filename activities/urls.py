from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("activities/", views.activity_list, name="activity-list"),
    path("activities/<int:number>/", views.activity_detail, name="activity-detail"),
    path("actions/<int:action_pk>/progress/new/", views.entry_create, name="entry-create"),
    path("progress/", views.entry_list, name="entry-list"),
    path("progress/review/", views.review_queue, name="review-queue"),
    path("progress/<int:pk>/", views.entry_detail, name="entry-detail"),
    path("progress/<int:pk>/edit/", views.entry_edit, name="entry-edit"),
    path("progress/<int:pk>/submit/", views.entry_submit, name="entry-submit"),
    path("progress/<int:pk>/delete/", views.entry_delete, name="entry-delete"),
    path("progress/<int:pk>/approve/", views.entry_review, {"decision": "approve"}, name="entry-approve"),
    path("progress/<int:pk>/return/", views.entry_review, {"decision": "return"}, name="entry-return"),
    path("logframe/", views.logframe, name="logframe"),
    path("logframe/<str:kind>/new/", views.logframe_edit, name="logframe-create"),
    path("logframe/<str:kind>/<int:pk>/edit/", views.logframe_edit, name="logframe-edit"),
    path("logframe/indicator/<int:pk>/values/new/", views.measurement_create, name="measurement-create"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="evidence-delete"),
]
